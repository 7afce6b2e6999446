-- A project's own capture rate limit, in events per second: NULL uses the
-- server's default (STACKLENS_RATE_LIMIT), 0 means no limit.
ALTER TABLE projects ADD COLUMN capture_rate_limit INTEGER CHECK (capture_rate_limit >= 0);
