-- Events keep their environment and tags in columns of their own, so SQL
-- (environment and tag filters, recounts after merges) no longer reads them
-- out of events.data, which is now stored compressed and without the
-- properties events.raw already holds. Rows stored before keep NULL in
-- environment and are read from their JSON data as before: environment IS
-- NOT NULL marks a row with the columns (its data may be compressed).
-- tags is the JSON object of the event's tags, NULL when it has none.
ALTER TABLE events ADD COLUMN environment TEXT;
ALTER TABLE events ADD COLUMN tags TEXT;
