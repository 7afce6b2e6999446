package db

// sqliteSQL is SQLite's part of the statements that differ between engines.
// Rows stored before migration 0018 keep environment and tags inside their
// plain JSON data; later rows keep them in columns and compressed data,
// which CASE keeps SQLite from reading as JSON.
var sqliteSQL = engineSQL{
	// storedEnvironment: for rows stored before the column (NULL there, data
	// plain JSON), read from data: its own, else, for PostHog events stored
	// before events had one, the $environment or environment property (as
	// migration 0014 reads it).
	storedEnvironment: `CASE WHEN environment IS NOT NULL THEN nullif(environment, '')
	WHEN json_valid(CAST(data AS TEXT)) THEN coalesce(nullif(json_extract(CAST(data AS TEXT), '$.environment'), ''),
	nullif(json_extract(CAST(data AS TEXT), '$.properties."$environment"'), ''),
	nullif(json_extract(CAST(data AS TEXT), '$.properties.environment'), '')) END`,
	isText: func(expr string) string { return "typeof(" + expr + ") = 'text'" },
	// tags: the tags column, or, for rows stored before it, data's tags.
	tagRows: `json_each(CASE WHEN environment IS NOT NULL THEN tags
	WHEN json_valid(CAST(data AS TEXT)) THEN json_extract(CAST(data AS TEXT), '$.tags') END) t`,
	tagIsText: "t.type = 'text'",
	jsonField: func(column string, blob bool, field string) string {
		if blob {
			column = "CAST(" + column + " AS TEXT)"
		}
		return "json_extract(" + column + ", '$." + field + "')"
	},
	// From plain JSON data SQLite reads only the one frame.
	crashFrame: `CASE WHEN json_valid(CAST(e.data AS TEXT)) THEN coalesce(
				(SELECT f.value FROM json_each(CAST(e.data AS TEXT), '$.exception_list[0].frames') f
					WHERE json_extract(f.value, '$.in_app') = 1 ORDER BY f.key DESC LIMIT 1),
				json_extract(CAST(e.data AS TEXT), '$.exception_list[0].frames[#-1]')) END,
			CASE WHEN NOT json_valid(CAST(e.data AS TEXT)) THEN e.data END`,
	newestMergeFirst:  "merged_at DESC, rowid DESC",
	issueIDsHandedOut: "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'issues'), 0)",
	// AUTOINCREMENT keeps the highest id ever used in sqlite_sequence, and
	// the writer's transaction holds it still: the next ids are free.
	newInboxIDs: `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'inbox'), 0) + i FROM n`,
	greatest: func(a, b string) string { return "max(" + a + ", " + b + ")" },
	least:    func(a, b string) string { return "min(" + a + ", " + b + ")" },
	search: func(terms []string) ([]string, []any) {
		var conds []string
		var args []any
		if match := searchMatch(terms); match != "" {
			// The trigram index matches terms of 3 or more characters as
			// substrings, case-insensitively (Unicode letters too, where LIKE
			// folds only ASCII).
			conds = append(conds, "i.id IN (SELECT rowid FROM issue_search WHERE issue_search MATCH ?)")
			args = append(args, match)
		}
		for _, term := range terms {
			if !shortTerm(term) {
				continue
			}
			// Too short for trigrams: read the issues' text.
			conds = append(conds, `(i.name || char(10) || i.description || char(10) || i.search_text) LIKE ? ESCAPE '\'`)
			args = append(args, "%"+escapeLike(term)+"%")
		}
		return conds, args
	},
}
