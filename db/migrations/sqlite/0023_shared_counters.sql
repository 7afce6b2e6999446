-- Counters every stacklens process on the database shares, so that limits
-- hold across a restart and across several nodes behind a load balancer.

-- One failed sign-in: which account it named (the email as typed, trimmed
-- and lower-cased) and which client address it came from (IPv6 by /64).
-- A right password sets account_key to NULL on that account's rows: its
-- failures stop counting against it but still count against the address.
-- Rows older than the sign-in window are deleted by the next failure or
-- successful sign-in.
CREATE TABLE signin_failures (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_key TEXT,
    address_key TEXT    NOT NULL,
    failed_at   INTEGER NOT NULL          -- unix milliseconds
);
CREATE INDEX signin_failures_account ON signin_failures(account_key, failed_at);
CREATE INDEX signin_failures_address ON signin_failures(address_key, failed_at);
CREATE INDEX signin_failures_failed_at ON signin_failures(failed_at);

-- How many events each project's capture requests had accepted, by every
-- node together, since the row was created. Each node adds what it accepted
-- about once a second and reads the total back, so its token bucket also
-- pays for what the other nodes accepted (see package ratelimit).
CREATE TABLE capture_usage (
    project_id INTEGER PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    accepted   INTEGER NOT NULL
);
