-- 0002_creds_audit: the credential broker's (internal/creds) audit trail. One row per
-- distinct event — who, which secret, which workload, outcome, expiry — per writer
-- flush (identical events within one flush are one row with a count and the times of
-- the first and last). Never holds a credential value. Times are Unix nanoseconds
-- (0 means unset).

CREATE TABLE creds_audit (
	id           INTEGER PRIMARY KEY,
	account      TEXT    NOT NULL,
	event_time   INTEGER NOT NULL, -- the first occurrence
	last_time    INTEGER NOT NULL, -- the last occurrence
	count        INTEGER NOT NULL, -- occurrences (>= 1)
	role_name    TEXT    NOT NULL, -- the workload's owner role
	workload     TEXT    NOT NULL, -- e.g. FUNCTION DB.SCH.F or SERVICE DB.SCH.S
	secret_name  TEXT    NOT NULL, -- DB.SCH.SECRET as requested
	secret_type  TEXT    NOT NULL, -- PASSWORD, GENERIC_STRING, OAUTH2, CLOUD_PROVIDER_TOKEN, ...
	integration  TEXT    NOT NULL, -- the external access integration that allowed it ('' if denied)
	outcome      TEXT    NOT NULL, -- ISSUED or DENIED or FAILED
	source       TEXT    NOT NULL, -- STORE, CACHE or UPSTREAM
	reason       TEXT    NOT NULL, -- why it was denied or failed ('' when issued)
	expires_at   INTEGER NOT NULL  -- expiry of the issued credential (0: does not expire)
);

CREATE INDEX creds_audit_account_time ON creds_audit (account, last_time);
