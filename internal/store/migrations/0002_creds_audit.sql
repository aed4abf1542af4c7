-- 0002_creds_audit: one row per credential the broker (internal/creds) issued or
-- refused. Never holds a credential value. Times are Unix nanoseconds (0 means unset).

CREATE TABLE creds_audit (
	id           INTEGER PRIMARY KEY,
	account      TEXT    NOT NULL,
	event_time   INTEGER NOT NULL,
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

CREATE INDEX creds_audit_account_time ON creds_audit (account, event_time);
