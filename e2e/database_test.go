package e2e

import "github.com/stacklens/stacklens/internal/teststore"

// database is the database s runs on, to open beside the running server in
// either engine: its Count and Exec take the SQLite form of a statement (?
// placeholders) and rebind it for PostgreSQL. For tests that age rows the
// way time would, write a row some other program left, or check what the
// server left in its tables.
func (s *server) database() teststore.Location {
	return teststore.Location{Path: s.DBPath, URL: s.DatabaseURL}
}
