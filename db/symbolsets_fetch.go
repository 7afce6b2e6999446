package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/stacklens/stacklens/event"
	"github.com/stacklens/stacklens/symbols"
)

// InsertMissingSymbolSet creates the symbol set of (ProjectID, Ref) as
// missing with s.Failure unless one exists, and returns the one that exists
// afterwards: a set uploaded a moment earlier is never overwritten.
func (d *DB) InsertMissingSymbolSet(ctx context.Context, s symbols.SymbolSet) (symbols.SymbolSet, error) {
	if s.Failure == nil {
		return s, errors.New("insert missing symbol set: no failure given")
	}
	failure, err := json.Marshal(s.Failure)
	if err != nil {
		return s, fmt.Errorf("encode failure: %w", err)
	}
	now := millis(time.Now())
	if _, err := d.write.ExecContext(ctx, `INSERT INTO symbol_sets(project_id, ref, ref_kind, state, failure, created_at, updated_at)
		VALUES (?, ?, ?, 'missing', ?, ?, ?) ON CONFLICT(project_id, ref) DO NOTHING`,
		s.ProjectID, s.Ref, string(s.Kind), string(failure), now, now); err != nil {
		return s, fmt.Errorf("create symbol set %s: %w", s.Ref, err)
	}
	return d.SymbolSet(ctx, s.ProjectID, s.Ref)
}

// CountURLSymbolSetsSince counts a project's URL symbol sets created at or
// after since: the new fetch refs the per-project hourly cap counts.
func (d *DB) CountURLSymbolSetsSince(ctx context.Context, projectID int64, since time.Time) (int, error) {
	var n int
	if err := d.write.QueryRowContext(ctx, `SELECT count(*) FROM symbol_sets WHERE project_id = ? AND ref_kind = ? AND created_at >= ?`,
		projectID, string(symbols.RefURL), millis(since)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count new symbol sets of project %d: %w", projectID, err)
	}
	return n, nil
}

// SymbolSetsWithFailure lists up to limit symbol sets, of every project,
// whose failure has the code.
func (d *DB) SymbolSetsWithFailure(ctx context.Context, code string, limit int) ([]symbols.SymbolSet, error) {
	rows, err := d.read.QueryContext(ctx, "SELECT "+symbolSetColumns+` FROM symbol_sets
		WHERE state = 'missing' AND `+d.dialect.sql.jsonField("failure", false, "code")+` = ? ORDER BY id LIMIT ?`, code, limit)
	if err != nil {
		return nil, fmt.Errorf("symbol sets failing with %s: %w", code, err)
	}
	defer rows.Close()
	var out []symbols.SymbolSet
	for rows.Next() {
		s, err := scanSymbolSet(rows)
		if err != nil {
			return nil, fmt.Errorf("symbol sets failing with %s: %w", code, err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// FramesWithFailure returns, per project and as sent, up to limit frames
// that have no symbol set and whose current resolution failed with the
// code, those looked at longest ago first.
func (d *DB) FramesWithFailure(ctx context.Context, code string, limit int) (map[int64][]event.Frame, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT project_id, frame FROM frame_resolutions
		WHERE symbol_set_id IS NULL AND `+d.dialect.sql.jsonField("resolution", true, "failure_code")+` = ?
		ORDER BY updated_at LIMIT ?`, code, limit)
	if err != nil {
		return nil, fmt.Errorf("frames failing with %s: %w", code, err)
	}
	defer rows.Close()
	out := map[int64][]event.Frame{}
	for rows.Next() {
		var projectID int64
		var b []byte
		if err := rows.Scan(&projectID, &b); err != nil {
			return nil, fmt.Errorf("frames failing with %s: %w", code, err)
		}
		var f event.Frame
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("decode frame failing with %s: %w", code, err)
		}
		out[projectID] = append(out[projectID], f)
	}
	return out, rows.Err()
}

// SymbolSetsWaitedOn lists, as (project, symbol set) pairs, the sets that
// frames are still recorded as waiting on (their resolution failed with
// code) although the set itself no longer does (its failure is not code):
// a process that stopped between storing a fetch and resolving its frames
// again leaves such frames behind.
func (d *DB) SymbolSetsWaitedOn(ctx context.Context, code string) ([]symbols.SymbolSetRef, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT DISTINCT fr.project_id, fr.symbol_set_id FROM frame_resolutions fr
		JOIN symbol_sets s ON s.id = fr.symbol_set_id
		WHERE `+d.dialect.sql.jsonField("fr.resolution", true, "failure_code")+` = ?
		AND (s.state = 'stored' OR coalesce(`+d.dialect.sql.jsonField("s.failure", false, "code")+`, '') <> ?)`, code, code)
	if err != nil {
		return nil, fmt.Errorf("symbol sets frames wait on: %w", err)
	}
	defer rows.Close()
	var out []symbols.SymbolSetRef
	for rows.Next() {
		var r symbols.SymbolSetRef
		if err := rows.Scan(&r.ProjectID, &r.ID); err != nil {
			return nil, fmt.Errorf("symbol sets frames wait on: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
