package db

// postgresSQL is PostgreSQL's part of the statements that differ between
// engines. A PostgreSQL database starts at the schema of migration 0018, so
// every event keeps its environment and tags in columns.
var postgresSQL = engineSQL{
	storedEnvironment: `nullif(environment, '')`,
	isText:            func(expr string) string { return expr + " IS NOT NULL" },
	// Tags are written as one JSON object of strings (see tagsColumn).
	tagRows:   `jsonb_each_text(CAST(tags AS jsonb)) t`,
	tagIsText: "TRUE",
	jsonField: func(column string, blob bool, field string) string {
		if blob {
			column = "convert_from(" + column + ", 'UTF8')"
		}
		return "(CAST(" + column + " AS jsonb) ->> '" + field + "')"
	},
	crashFrame: `NULL::bytea, e.data`,
	// issue_merges has no row id; two merges of one issue in the same
	// millisecond are told apart by the issue each went into.
	newestMergeFirst: "merged_at DESC, issue_id DESC",
	newInboxIDs:      "SELECT nextval(pg_get_serial_sequence('inbox', 'id')) FROM generate_series(1, ?)",
	issueIDsHandedOut: `SELECT coalesce((SELECT last_value FROM pg_sequences
		WHERE schemaname = current_schema() AND sequencename = 'issues_id_seq'), 0)`,
	greatest: func(a, b string) string { return "greatest(" + a + ", " + b + ")" },
	least:    func(a, b string) string { return "least(" + a + ", " + b + ")" },
	search: func(terms []string) ([]string, []any) {
		var conds []string
		var args []any
		for _, term := range terms {
			// The expression of the issues_search_trgm index, so terms of 3
			// or more characters are found through it (short ones scan).
			conds = append(conds, `lower(i.name || E'\n' || i.description || E'\n' || i.search_text) LIKE ? ESCAPE '\'`)
			args = append(args, "%"+escapeLike(term)+"%")
		}
		return conds, args
	},
}
