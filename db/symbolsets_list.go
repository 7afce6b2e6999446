package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stacklens/stacklens/symbols"
)

// Symbol-set status filters, PostHog's names and the pages' names.
const (
	SymbolSetsAll     = "all"
	SymbolSetsStored  = "stored"  // PostHog: valid
	SymbolSetsMissing = "missing" // PostHog: invalid
)

// symbolSetOrders whitelists the sort orders (PostHog's order_by values).
var symbolSetOrders = map[string]string{
	"created_at":  "s.created_at ASC, s.id ASC",
	"-created_at": "s.created_at DESC, s.id DESC",
	"ref":         "s.ref ASC, s.id ASC",
	"-ref":        "s.ref DESC, s.id DESC",
	"last_used":   "s.last_used_at IS NOT NULL, s.last_used_at ASC, s.id ASC",
	"-last_used":  "s.last_used_at IS NULL, s.last_used_at DESC, s.id DESC",
}

// ValidSymbolSetOrder reports whether ListSymbolSets knows an order.
func ValidSymbolSetOrder(order string) bool {
	_, ok := symbolSetOrders[order]
	return ok
}

// SymbolSetQuery selects symbol sets of a project.
type SymbolSetQuery struct {
	ProjectID int64
	Status    string // SymbolSetsAll (or ""), SymbolSetsStored, SymbolSetsMissing
	Search    string // part of the ref, any case
	Ref       string // exactly this ref
	// Order is one of the keys of symbolSetOrders; "" is -last_used.
	Order string
	// MissingFirst lists missing sets before stored ones, then by Order.
	MissingFirst bool
	Limit        int // 0: no limit
	Offset       int
}

// SymbolSetRow is a symbol set as the lists show it.
type SymbolSetRow struct {
	symbols.SymbolSet
	Release    string
	UploadHash string // SHA-512 of the blob last uploaded through the API
	Frames     int    // distinct frames last resolved with it
	Issues     int    // issues whose events hold those frames
	// SeenFile is the file one of those frames was sent with (its abs_path
	// or filename): what a chunk or debug id stands for, to a person.
	SeenFile string
}

// withExtra scans a row's trailing columns into extra after the ones
// scanSymbolSet reads.
type withExtra struct {
	row   interface{ Scan(...any) error }
	extra []any
}

func (w withExtra) Scan(dest ...any) error { return w.row.Scan(append(dest, w.extra...)...) }

func symbolSetUsage(stmts *engineSQL) string {
	return `,
	s.release, s.upload_hash,
	(SELECT COUNT(*) FROM frame_resolutions f WHERE f.symbol_set_id = s.id),
	(SELECT COUNT(DISTINCT e.issue_id) FROM frame_resolutions f
		JOIN event_frames ef ON ef.project_id = f.project_id AND ef.raw_id = f.raw_id
		JOIN events e ON e.id = ef.event_id
		WHERE f.symbol_set_id = s.id),
	coalesce((SELECT coalesce(nullif(` + stmts.jsonField("f.frame", true, "abs_path") + `, ''), ` + stmts.jsonField("f.frame", true, "filename") + `, '')
		FROM frame_resolutions f WHERE f.symbol_set_id = s.id LIMIT 1), '')`
}

func scanSymbolSetRow(row interface{ Scan(...any) error }) (SymbolSetRow, error) {
	var r SymbolSetRow
	set, err := scanSymbolSet(withExtra{row: row, extra: []any{&r.Release, &r.UploadHash, &r.Frames, &r.Issues, &r.SeenFile}})
	r.SymbolSet = set
	return r, err
}

func qualified(columns string) string {
	parts := strings.Split(columns, ",")
	for i, p := range parts {
		parts[i] = "s." + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// ListSymbolSets returns one page of a project's symbol sets with how much
// uses them, and how many match the query in all.
func (d *DB) ListSymbolSets(ctx context.Context, q SymbolSetQuery) ([]SymbolSetRow, int, error) {
	where := []string{"s.project_id = ?"}
	args := []any{q.ProjectID}
	switch q.Status {
	case "", SymbolSetsAll:
	case SymbolSetsStored:
		where = append(where, "s.state = 'stored'")
	case SymbolSetsMissing:
		where = append(where, "s.state = 'missing'")
	default:
		return nil, 0, fmt.Errorf("unknown symbol set status %q", q.Status)
	}
	if q.Search != "" {
		where = append(where, "instr(lower(s.ref), lower(?)) > 0")
		args = append(args, q.Search)
	}
	if q.Ref != "" {
		where = append(where, "s.ref = ?")
		args = append(args, q.Ref)
	}
	order, ok := symbolSetOrders[q.Order]
	if q.Order == "" {
		order, ok = symbolSetOrders["-last_used"], true
	}
	if !ok {
		return nil, 0, fmt.Errorf("unknown symbol set order %q", q.Order)
	}
	if q.MissingFirst {
		order = "s.state = 'stored', " + order
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := d.read.QueryRowContext(ctx, "SELECT COUNT(*) FROM symbol_sets s WHERE "+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count symbol sets: %w", err)
	}
	query := "SELECT " + qualified(symbolSetColumns) + symbolSetUsage(d.dialect.sql) + " FROM symbol_sets s WHERE " + cond + " ORDER BY " + order
	if q.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d OFFSET %d", q.Limit, max(q.Offset, 0))
	}
	rows, err := d.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list symbol sets: %w", err)
	}
	defer rows.Close()
	var out []SymbolSetRow
	for rows.Next() {
		r, err := scanSymbolSetRow(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list symbol sets: %w", err)
		}
		out = append(out, r)
	}
	return out, total, rows.Err()
}

// SymbolSetRowByID loads one symbol set of a project with its usage.
func (d *DB) SymbolSetRowByID(ctx context.Context, projectID, id int64) (SymbolSetRow, error) {
	r, err := scanSymbolSetRow(d.read.QueryRowContext(ctx, "SELECT "+qualified(symbolSetColumns)+symbolSetUsage(d.dialect.sql)+
		" FROM symbol_sets s WHERE s.project_id = ? AND s.id = ?", projectID, id))
	if errors.Is(err, ErrNotFound) {
		return r, symbols.ErrNoSymbolSet
	}
	if err != nil {
		return r, fmt.Errorf("load symbol set %d: %w", id, err)
	}
	return r, nil
}

// IssueRef names an issue for a link.
type IssueRef struct {
	ID          int64
	Name        string
	Description string
	Status      string
}

// IssuesOfSymbolSet lists the issues whose events hold frames last resolved
// with a symbol set, most recently seen first.
func (d *DB) IssuesOfSymbolSet(ctx context.Context, projectID, symbolSetID int64) ([]IssueRef, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT i.id, i.name, i.description, i.status FROM issues i
		WHERE i.project_id = ? AND i.id IN (SELECT e.issue_id FROM frame_resolutions f
			JOIN event_frames ef ON ef.project_id = f.project_id AND ef.raw_id = f.raw_id
			JOIN events e ON e.id = ef.event_id
			WHERE f.project_id = ? AND f.symbol_set_id = ?)
		ORDER BY i.last_seen DESC, i.id DESC`, projectID, projectID, symbolSetID)
	if err != nil {
		return nil, fmt.Errorf("issues of symbol set %d: %w", symbolSetID, err)
	}
	defer rows.Close()
	var out []IssueRef
	for rows.Next() {
		var r IssueRef
		if err := rows.Scan(&r.ID, &r.Name, &r.Description, &r.Status); err != nil {
			return nil, fmt.Errorf("issues of symbol set %d: %w", symbolSetID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// IssueRefs names the issues with these ids that exist, in the order given.
func (d *DB) IssueRefs(ctx context.Context, projectID int64, ids []int64) ([]IssueRef, error) {
	var out []IssueRef
	for _, id := range ids {
		var r IssueRef
		err := d.read.QueryRowContext(ctx, "SELECT id, name, description, status FROM issues WHERE project_id = ? AND id = ?",
			projectID, id).Scan(&r.ID, &r.Name, &r.Description, &r.Status)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("load issue %d: %w", id, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// ServerSecret returns the named signing key, creating it on first use.
func (d *DB) ServerSecret(ctx context.Context, name string) ([]byte, error) {
	var secret []byte
	err := d.read.QueryRowContext(ctx, "SELECT secret FROM server_secrets WHERE name = ?", name).Scan(&secret)
	if err == nil {
		return secret, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("load secret %s: %w", name, err)
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("make secret %s: %w", name, err)
	}
	if _, err := d.write.ExecContext(ctx, "INSERT INTO server_secrets(name, secret, created_at) VALUES (?, ?, ?) ON CONFLICT(name) DO NOTHING",
		name, fresh, millis(time.Now())); err != nil {
		return nil, fmt.Errorf("store secret %s: %w", name, err)
	}
	// Another process may have created it first: read what won.
	if err := d.write.QueryRowContext(ctx, "SELECT secret FROM server_secrets WHERE name = ?", name).Scan(&secret); err != nil {
		return nil, fmt.Errorf("load secret %s: %w", name, err)
	}
	return secret, nil
}
