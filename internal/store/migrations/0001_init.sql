-- 0001_init: the first schema. Times are Unix nanoseconds (0 means unset).

CREATE TABLE records (
	id       INTEGER PRIMARY KEY,
	account  TEXT    NOT NULL,
	kind     TEXT    NOT NULL,
	parent   TEXT    NOT NULL,
	name     TEXT    NOT NULL,
	owner    TEXT    NOT NULL DEFAULT '',
	created  INTEGER NOT NULL,
	modified INTEGER NOT NULL,
	data     BLOB,
	UNIQUE (account, kind, parent, name)
);

-- DeleteUnder and DeleteAccount scan by account and parent.
CREATE INDEX records_account_parent ON records (account, parent);

CREATE TABLE sessions (
	id            INTEGER PRIMARY KEY,
	account       TEXT    NOT NULL,
	token_hash    BLOB    NOT NULL UNIQUE,
	master_hash   BLOB    NOT NULL UNIQUE,
	token_expiry  INTEGER NOT NULL,
	master_expiry INTEGER NOT NULL,
	last_used     INTEGER NOT NULL,
	created       INTEGER NOT NULL,
	data          BLOB
);

CREATE INDEX sessions_account ON sessions (account);
CREATE INDEX sessions_master_expiry ON sessions (master_expiry);

CREATE TABLE query_history (
	query_id       TEXT    PRIMARY KEY,
	account        TEXT    NOT NULL,
	session_id     INTEGER NOT NULL,
	query_text     TEXT    NOT NULL,
	query_type     TEXT    NOT NULL,
	user_name      TEXT    NOT NULL,
	user_type      TEXT    NOT NULL,
	role_name      TEXT    NOT NULL,
	warehouse_name TEXT    NOT NULL,
	database_name  TEXT    NOT NULL,
	schema_name    TEXT    NOT NULL,
	status         TEXT    NOT NULL,
	error_code     TEXT    NOT NULL,
	error_message  TEXT    NOT NULL,
	start_time     INTEGER NOT NULL,
	end_time       INTEGER NOT NULL,
	rows_produced  INTEGER NOT NULL
);

CREATE INDEX query_history_account_start ON query_history (account, start_time);

CREATE TABLE login_history (
	event_id        INTEGER PRIMARY KEY,
	account         TEXT    NOT NULL,
	event_timestamp INTEGER NOT NULL,
	user_name       TEXT    NOT NULL,
	client_ip       TEXT    NOT NULL,
	reported_client TEXT    NOT NULL,
	first_factor    TEXT    NOT NULL,
	is_success      INTEGER NOT NULL,
	error_code      TEXT    NOT NULL,
	error_message   TEXT    NOT NULL,
	connection_id   INTEGER NOT NULL
);

CREATE INDEX login_history_account_time ON login_history (account, event_timestamp);

CREATE TABLE sequences (
	name  TEXT    PRIMARY KEY,
	value INTEGER NOT NULL
);
