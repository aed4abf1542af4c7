-- 0003_session_ids: session and master tokens carry their session's id, so a session
-- is found by its primary key and its token hashes need no UNIQUE indexes; and a
-- session's end (master expiry or idle timeout) is a column, indexed for the sweep. Those two
-- indexes over random 32-byte hashes were most of a login's write cost: every insert
-- dirtied a random page of each, and each dirty page is a WAL frame at commit.
--
-- Tokens minted before this version have no id and cannot be looked up any more, so
-- the sessions they belong to are dropped: drivers log in again.
-- AUTOINCREMENT: a session id is never reused, even after the newest session ends,
-- so QUERY_HISTORY.SESSION_ID names exactly one session.

CREATE TABLE sessions_v3 (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	account       TEXT    NOT NULL,
	token_hash    BLOB    NOT NULL,
	master_hash   BLOB    NOT NULL,
	token_expiry  INTEGER NOT NULL,
	master_expiry INTEGER NOT NULL,
	last_used     INTEGER NOT NULL,
	created       INTEGER NOT NULL,
	idle_timeout  INTEGER NOT NULL DEFAULT 0,
	ends          INTEGER NOT NULL,
	data          BLOB
);

-- New ids continue after every id already used, in sessions or in the history.
-- (The row is named after the new table; the RENAME below renames it with the table.)
INSERT INTO sqlite_sequence (name, seq)
SELECT 'sessions_v3', max(
	(SELECT coalesce(max(id), 0) FROM sessions),
	(SELECT coalesce(max(session_id), 0) FROM query_history),
	(SELECT coalesce(max(connection_id), 0) FROM login_history));

DROP TABLE sessions;
ALTER TABLE sessions_v3 RENAME TO sessions;

-- No index on account: the only readers by account (closing a user's sessions, which
-- compares names case-insensitively, and dropping an account) are rare and scan; an
-- index would cost every login an insert and every commit a page.
-- ends = min(master_expiry, last_used + idle_timeout): the sweep deletes a range of
-- this index instead of decoding every session to find the idle ones.
CREATE INDEX sessions_ends ON sessions (ends);
