-- The issue list filters by environment and by tag: their values
-- are counted in issue_values (keys 'environment' and 'tag:<name>') as
-- events are stored. Count them for the events stored before: Sentry
-- events hold them in their JSON ($.environment, $.tags); a PostHog event
-- stored before had its $environment (or environment) only among its
-- properties.
INSERT INTO issue_values(project_id, issue_id, key, value, count, first_seen, last_seen)
    SELECT project_id, issue_id, 'environment', substr(env, 1, 500), count(*), min(timestamp), max(timestamp) FROM (
        SELECT project_id, issue_id, timestamp, coalesce(
            nullif(json_extract(CAST(data AS TEXT), '$.environment'), ''),
            nullif(json_extract(CAST(data AS TEXT), '$.properties."$environment"'), ''),
            nullif(json_extract(CAST(data AS TEXT), '$.properties.environment'), '')) AS env
        FROM events WHERE json_valid(CAST(data AS TEXT)))
    WHERE typeof(env) = 'text' GROUP BY issue_id, substr(env, 1, 500)
    ON CONFLICT (issue_id, key, value) DO NOTHING;
INSERT INTO issue_values(project_id, issue_id, key, value, count, first_seen, last_seen)
    SELECT e.project_id, e.issue_id, 'tag:' || t.key, substr(t.value, 1, 500), count(*), min(e.timestamp), max(e.timestamp)
    FROM events e, json_each(CAST(e.data AS TEXT), '$.tags') t
    WHERE json_valid(CAST(e.data AS TEXT)) AND t.type = 'text' AND t.value != ''
    GROUP BY e.issue_id, t.key, substr(t.value, 1, 500)
    ON CONFLICT (issue_id, key, value) DO NOTHING;
