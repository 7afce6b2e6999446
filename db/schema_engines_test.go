package db

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/stacklens/stacklens/internal/testkit"
)

// postgresTestEnv names the admin URL of a PostgreSQL server tests may
// create and drop databases on.
const postgresTestEnv = "STACKLENS_TEST_POSTGRES"

// searchTrigramIndex is what the PostgreSQL schema has in place of SQLite's
// FTS5 table issue_search (and its shadow tables and triggers).
const searchTrigramIndex = "issues_search_trgm"

// TestSchemaEnginesAgree builds both schemas from scratch, SQLite through
// Open's migrations and PostgreSQL from db/migrations/postgres, and compares
// what queries written once for both depend on: each table's columns in
// order (type, nullability, default, identity), its keys and indexes, its
// foreign keys and how many CHECK constraints it has.
func TestSchemaEnginesAgree(t *testing.T) {
	ctx := context.Background()
	conn := freshPostgres(t, ctx)
	applyPostgresMigrations(t, ctx, conn)

	d, err := Open(ctx, filepath.Join(t.TempDir(), "schema.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	lite := sqliteSchema(t, ctx, d)
	pg := postgresSchema(t, ctx, conn)

	var diffs []string
	if idx, ok := pg["issues"].indexes[searchTrigramIndex]; !ok {
		diffs = append(diffs, fmt.Sprintf("postgres: issues lacks the trigram index %s that stands for SQLite's issue_search", searchTrigramIndex))
	} else {
		if !strings.Contains(idx, "USING gin") || !strings.Contains(idx, "gin_trgm_ops") {
			diffs = append(diffs, fmt.Sprintf("postgres: %s is not a GIN trigram index: %s", searchTrigramIndex, idx))
		}
		delete(pg["issues"].indexes, searchTrigramIndex)
	}
	diffs = append(diffs, compareSchemas(lite, pg)...)
	if len(diffs) > 0 {
		t.Fatalf("the PostgreSQL schema differs from SQLite's in %d ways:\n%s", len(diffs), strings.Join(diffs, "\n"))
	}
	if len(lite) < 20 {
		t.Fatalf("read only %d tables from SQLite; the comparison read the wrong catalog", len(lite))
	}
}

// tableSchema is one table as both engines are compared: every field is
// written the same way for both, so equal strings mean equal meaning.
type tableSchema struct {
	columns     []string          // "name type NOT NULL DEFAULT x IDENTITY", in column order
	keys        []string          // primary key and unique constraints, sorted (their names are the engine's own)
	indexes     map[string]string // index created by name → its definition
	foreignKeys []string          // "(cols) → table(cols) ON DELETE x ON UPDATE y", sorted
	checks      int
}

func compareSchemas(lite, pg map[string]*tableSchema) []string {
	var diffs []string
	for _, name := range sortedKeys(lite) {
		if _, ok := pg[name]; !ok {
			diffs = append(diffs, fmt.Sprintf("table %s: only in SQLite", name))
		}
	}
	for _, name := range sortedKeys(pg) {
		l, ok := lite[name]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("table %s: only in PostgreSQL", name))
			continue
		}
		p := pg[name]
		for i := range max(len(l.columns), len(p.columns)) {
			lc, pc := at(l.columns, i), at(p.columns, i)
			if lc != pc {
				diffs = append(diffs, fmt.Sprintf("table %s column %d: SQLite %q, PostgreSQL %q", name, i+1, lc, pc))
			}
		}
		diffs = append(diffs, compareSets(name, "key", l.keys, p.keys)...)
		diffs = append(diffs, compareSets(name, "foreign key", l.foreignKeys, p.foreignKeys)...)
		for _, idx := range sortedKeys(l.indexes) {
			switch pdef, ok := p.indexes[idx]; {
			case !ok:
				diffs = append(diffs, fmt.Sprintf("table %s index %s: only in SQLite (%s)", name, idx, l.indexes[idx]))
			case pdef != l.indexes[idx]:
				diffs = append(diffs, fmt.Sprintf("table %s index %s: SQLite %q, PostgreSQL %q", name, idx, l.indexes[idx], pdef))
			}
		}
		for _, idx := range sortedKeys(p.indexes) {
			if _, ok := l.indexes[idx]; !ok {
				diffs = append(diffs, fmt.Sprintf("table %s index %s: only in PostgreSQL (%s)", name, idx, p.indexes[idx]))
			}
		}
		if l.checks != p.checks {
			diffs = append(diffs, fmt.Sprintf("table %s: %d CHECK constraints in SQLite, %d in PostgreSQL", name, l.checks, p.checks))
		}
	}
	return diffs
}

func compareSets(table, what string, lite, pg []string) []string {
	var diffs []string
	for _, s := range lite {
		if !slices.Contains(pg, s) {
			diffs = append(diffs, fmt.Sprintf("table %s %s %s: only in SQLite", table, what, s))
		}
	}
	for _, s := range pg {
		if !slices.Contains(lite, s) {
			diffs = append(diffs, fmt.Sprintf("table %s %s %s: only in PostgreSQL", table, what, s))
		}
	}
	return diffs
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "(none)"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// sqliteTypes are the PostgreSQL types the SQLite ones become.
var sqliteTypes = map[string]string{"INTEGER": "bigint", "REAL": "double precision", "TEXT": "text", "BLOB": "bytea"}

func sqliteSchema(t *testing.T, ctx context.Context, d *DB) map[string]*tableSchema {
	t.Helper()
	strs := func(query string, args ...any) [][]string {
		t.Helper()
		rows, err := d.read.QueryContext(ctx, query, args...)
		if err != nil {
			t.Fatalf("sqlite: %s: %v", query, err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		var out [][]string
		for rows.Next() {
			vals := make([]*string, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("sqlite: %s: %v", query, err)
			}
			row := make([]string, len(cols))
			for i, v := range vals {
				if v != nil {
					row[i] = *v
				}
			}
			out = append(out, row)
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("sqlite: %s: %v", query, err)
		}
		return out
	}

	schema := map[string]*tableSchema{}
	// schema_migrations is the runner's on both engines; issue_search and its
	// shadow tables are FTS5's, which PostgreSQL replaces with an index.
	for _, tbl := range strs(`SELECT name, sql FROM sqlite_master WHERE type = 'table'
		AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name != 'schema_migrations' AND name NOT LIKE 'issue\_search%' ESCAPE '\'`) {
		name, createSQL := tbl[0], tbl[1]
		ts := &tableSchema{indexes: map[string]string{}}
		schema[name] = ts

		cols := strs("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid", name)
		var pk []string
		pkCount := 0
		for _, c := range cols {
			if c[4] != "0" {
				pkCount++
			}
		}
		rowidAlias := ""
		for _, c := range cols {
			col, typ, notNull, dflt, pkPos := c[0], strings.ToUpper(c[1]), c[2] == "1", c[3], c[4]
			pgType, ok := sqliteTypes[typ]
			if !ok {
				pgType = "untyped " + typ
			}
			// A primary-key column never holds NULL in practice, although a
			// rowid table's non-integer primary key admits one (an old SQLite
			// quirk) and PRAGMA table_info reports only declared NOT NULLs.
			if pkPos != "0" {
				notNull = true
			}
			identity := false
			if pkPos == "1" && pkCount == 1 && typ == "INTEGER" {
				rowidAlias = col
				identity = strings.Contains(strings.ToUpper(createSQL), "AUTOINCREMENT")
			}
			ts.columns = append(ts.columns, describeColumn(col, pgType, notNull, dflt, identity))
			if pkPos != "0" {
				pk = append(pk, pkPos+" "+col)
			}
		}
		sort.Strings(pk)
		for i := range pk {
			pk[i] = pk[i][strings.IndexByte(pk[i], ' ')+1:]
		}
		if len(pk) > 0 {
			ts.keys = append(ts.keys, "PRIMARY KEY ("+strings.Join(pk, ", ")+")")
		}

		for _, idx := range strs(`SELECT l.name, l."unique", l.origin, l.partial, coalesce(m.sql, '') FROM pragma_index_list(?) l
			LEFT JOIN sqlite_master m ON m.type = 'index' AND m.name = l.name`, name) {
			idxName, unique, origin, partial := idx[0], idx[1] == "1", idx[2], idx[3] == "1"
			if origin == "pk" {
				continue // described from table_info above
			}
			var keyCols []string
			for _, k := range strs("SELECT cid, name, \"desc\", coll FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno", idxName) {
				col := k[1]
				switch k[0] {
				case "-1":
					col = rowidAlias
				case "-2":
					col = "(expression)"
				}
				keyCols = append(keyCols, describeKeyColumn(col, k[2] == "1", k[3]))
			}
			def := describeIndex(unique, keyCols, partial)
			if origin == "u" {
				ts.keys = append(ts.keys, def)
			} else {
				ts.indexes[idxName] = def
			}
		}

		for _, fk := range strs(`SELECT id, "table", group_concat("from", ', '), group_concat("to", ', '), on_delete, on_update
			FROM (SELECT * FROM pragma_foreign_key_list(?) ORDER BY id, seq) GROUP BY id`, name) {
			ts.foreignKeys = append(ts.foreignKeys, describeForeignKey(fk[2], fk[1], fk[3], fk[4], fk[5]))
		}
		sort.Strings(ts.keys)
		sort.Strings(ts.foreignKeys)
		ts.checks = strings.Count(strings.ToUpper(createSQL), "CHECK (")
	}
	return schema
}

func postgresSchema(t *testing.T, ctx context.Context, conn *pgx.Conn) map[string]*tableSchema {
	t.Helper()
	strs := func(query string, args ...any) [][]string {
		t.Helper()
		rows, err := conn.Query(ctx, query, args...)
		if err != nil {
			t.Fatalf("postgres: %s: %v", query, err)
		}
		defer rows.Close()
		var out [][]string
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				t.Fatalf("postgres: %s: %v", query, err)
			}
			row := make([]string, len(vals))
			for i, v := range vals {
				if v != nil {
					row[i] = fmt.Sprint(v)
				}
			}
			out = append(out, row)
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("postgres: %s: %v", query, err)
		}
		return out
	}

	schema := map[string]*tableSchema{}
	for _, tbl := range strs(`SELECT c.oid::bigint, c.relname FROM pg_class c
		WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')`) {
		oid, name := tbl[0], tbl[1]
		ts := &tableSchema{indexes: map[string]string{}}
		schema[name] = ts

		for _, c := range strs(`SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull::text,
				coalesce(pg_get_expr(d.adbin, d.adrelid), ''), a.attidentity::text
			FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
			WHERE a.attrelid = $1::text::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, oid) {
			if c[4] == "a" {
				c[1] += " (GENERATED ALWAYS, which refuses explicit ids)"
			}
			ts.columns = append(ts.columns, describeColumn(c[0], c[1], c[2] == "true", postgresDefault(c[3]), c[4] != ""))
		}

		for _, idx := range strs(`SELECT i.relname, x.indisunique::text, x.indisprimary::text, (x.indpred IS NOT NULL)::text,
				EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)::text,
				x.indexrelid::bigint, pg_get_indexdef(x.indexrelid)
			FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = $1::text::oid`, oid) {
			idxName, unique, primary, partial, backsConstraint, idxOid, fullDef := idx[0], idx[1] == "true", idx[2] == "true", idx[3] == "true", idx[4] == "true", idx[5], idx[6]
			if idxName == searchTrigramIndex {
				ts.indexes[idxName] = fullDef // checked by the test itself: SQLite has no counterpart
				continue
			}
			var keyCols []string
			for _, k := range strs(`SELECT k.attnum::text, coalesce(a.attname::text, ''),
					((x.indoption[k.n - 1] & 1) = 1)::text, coalesce(c.collname::text, '')
				FROM pg_index x CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
				LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
				LEFT JOIN pg_collation c ON c.oid = x.indcollation[k.n - 1]
				WHERE x.indexrelid = $1::text::oid AND k.n <= x.indnkeyatts ORDER BY k.n`, idxOid) {
				col := k[1]
				if k[0] == "0" {
					col = "(expression)"
				}
				keyCols = append(keyCols, describeKeyColumn(col, k[2] == "true", k[3]))
			}
			switch {
			case primary:
				ts.keys = append(ts.keys, "PRIMARY KEY ("+strings.Join(keyCols, ", ")+")")
			case backsConstraint:
				ts.keys = append(ts.keys, describeIndex(unique, keyCols, partial))
			default:
				ts.indexes[idxName] = describeIndex(unique, keyCols, partial)
			}
		}

		for _, fk := range strs(`SELECT r.relname, string_agg(a.attname, ', ' ORDER BY k.n), string_agg(ra.attname, ', ' ORDER BY k.n),
				c.confdeltype::text, c.confupdtype::text
			FROM pg_constraint c JOIN pg_class r ON r.oid = c.confrelid
			CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(col, refcol, n)
			JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.col
			JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = k.refcol
			WHERE c.conrelid = $1::text::oid AND c.contype = 'f' GROUP BY c.oid, r.relname, c.confdeltype, c.confupdtype`, oid) {
			ts.foreignKeys = append(ts.foreignKeys, describeForeignKey(fk[1], fk[0], fk[2], postgresAction(fk[3]), postgresAction(fk[4])))
		}
		sort.Strings(ts.keys)
		sort.Strings(ts.foreignKeys)
		for _, c := range strs(`SELECT count(*)::text FROM pg_constraint WHERE conrelid = $1::text::oid AND contype = 'c'`, oid) {
			fmt.Sscan(c[0], &ts.checks)
		}
	}
	return schema
}

func describeColumn(name, typ string, notNull bool, dflt string, identity bool) string {
	s := name + " " + typ
	if notNull {
		s += " NOT NULL"
	}
	if dflt != "" {
		s += " DEFAULT " + dflt
	}
	if identity {
		s += " IDENTITY"
	}
	return s
}

func describeKeyColumn(col string, desc bool, collation string) string {
	if desc {
		col += " DESC"
	}
	// BINARY is SQLite's default collation, "default" PostgreSQL's; nocase
	// is SQLite's NOCASE and the collation the PostgreSQL schema names so.
	if c := strings.ToLower(collation); c != "" && c != "binary" && c != "default" {
		col += " COLLATE " + c
	}
	return col
}

func describeIndex(unique bool, cols []string, partial bool) string {
	s := "(" + strings.Join(cols, ", ") + ")"
	if unique {
		s = "UNIQUE " + s
	}
	if partial {
		s += " WHERE …"
	}
	return s
}

func describeForeignKey(cols, table, refCols, onDelete, onUpdate string) string {
	return fmt.Sprintf("(%s) → %s(%s) ON DELETE %s ON UPDATE %s", cols, table, refCols, onDelete, onUpdate)
}

// postgresAction spells pg_constraint's action codes as SQLite's
// pragma_foreign_key_list does.
func postgresAction(code string) string {
	switch code {
	case "a":
		return "NO ACTION"
	case "r":
		return "RESTRICT"
	case "c":
		return "CASCADE"
	case "n":
		return "SET NULL"
	case "d":
		return "SET DEFAULT"
	}
	return "unknown action " + code
}

var postgresCast = regexp.MustCompile(`::[a-z ]+$`)

// postgresDefault drops the cast PostgreSQL adds to a literal default
// (a text default of 'active' reads 'active'::text), which SQLite's dflt_value lacks.
func postgresDefault(expr string) string {
	return postgresCast.ReplaceAllString(expr, "")
}

// freshPostgres creates an empty database on the server named by
// STACKLENS_TEST_POSTGRES, connects to it and drops it when the test ends.
func freshPostgres(t *testing.T, ctx context.Context) *pgx.Conn {
	t.Helper()
	adminURL := os.Getenv(postgresTestEnv)
	if adminURL == "" {
		testkit.Missing(t, postgresTestEnv+" is not set (the admin URL of a PostgreSQL server tests may create databases on)")
	}
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		t.Fatalf("connect to %s: %v", postgresTestEnv, err)
	}
	t.Cleanup(func() { admin.Close(context.WithoutCancel(ctx)) })
	suffix := make([]byte, 6)
	rand.Read(suffix)
	name := "stacklens_schema_" + hex.EncodeToString(suffix)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(adminURL)
	if err != nil {
		t.Fatalf("parse %s: %v", postgresTestEnv, err)
	}
	u.Path = "/" + name
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatalf("connect to database %s: %v", name, err)
	}
	t.Cleanup(func() { conn.Close(context.WithoutCancel(ctx)) })
	return conn
}

// applyPostgresMigrations runs db/migrations/postgres/*.sql in order, each
// in a transaction, as plain statements.
func applyPostgresMigrations(t *testing.T, ctx context.Context, conn *pgx.Conn) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("migrations", "postgres", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no PostgreSQL migrations in migrations/postgres (%v)", err)
	}
	sort.Strings(files)
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// Without arguments pgx uses the simple protocol, which runs a file of
		// several statements as one implicit transaction.
		if _, err := conn.Exec(ctx, string(body)); err != nil {
			t.Fatalf("apply %s: %v", f, err)
		}
	}
}
