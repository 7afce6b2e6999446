-- Retention, per project: how long events are kept (days), how many events
-- one issue keeps (the oldest go first), and how long a symbol set nothing
-- used is kept (days). NULL means the server's default
-- (STACKLENS_RETENTION_*); 0 means keep forever. Issue counts are kept on
-- the issues themselves and do not shrink when events go.
ALTER TABLE projects ADD COLUMN retention_event_days INTEGER;
ALTER TABLE projects ADD COLUMN retention_max_events_per_issue INTEGER;
ALTER TABLE projects ADD COLUMN retention_symbol_set_days INTEGER;
