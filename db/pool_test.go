package db

import "testing"

func TestRebindTurnsPlaceholdersIntoNumbers(t *testing.T) {
	cases := map[string]string{
		"SELECT 1":                                     "SELECT 1",
		"SELECT a FROM t WHERE b = ? AND c = ?":        "SELECT a FROM t WHERE b = $1 AND c = $2",
		"INSERT INTO t VALUES (?1, ?1, ?2)":            "INSERT INTO t VALUES ($1, $1, $2)",
		"SELECT '?' || ? FROM t WHERE x = \"q?\"":      "SELECT '?' || $1 FROM t WHERE x = \"q?\"",
		"SELECT ? -- why?\n, ?":                        "SELECT $1 -- why?\n, $2",
		"SELECT 'it''s ?', ?":                          "SELECT 'it''s ?', $1",
		"SELECT 'unterminated ?":                       "SELECT 'unterminated ?",
		"UPDATE t SET a = a - ? WHERE id IN (?, ?, ?)": "UPDATE t SET a = a - $1 WHERE id IN ($2, $3, $4)",
	}
	for in, want := range cases {
		if got := rebind(in); got != want {
			t.Errorf("rebind(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPostgresArgsStoreBooleansAsIntegers(t *testing.T) {
	in := []any{true, false, "x", int64(3)}
	got := newDialect(enginePostgres).args(in)
	if got[0] != int64(1) || got[1] != int64(0) || got[2] != "x" || got[3] != int64(3) {
		t.Fatalf("args = %#v", got)
	}
	if in[0] != true {
		t.Fatal("args changed the caller's slice")
	}
	if same := newDialect(engineSQLite).args(in); same[0] != true {
		t.Fatal("SQLite arguments must pass unchanged")
	}
}
