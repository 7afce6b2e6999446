package db

import (
	"context"
	"fmt"
	"time"

	"github.com/stacklens/stacklens/symbols"
)

// Versions of symbol sets and claims on their fetches (migration 0021): what
// lets several processes that share the database cache symbol sets and fetch
// them without serving a replaced set or fetching one URL twice.

// nextSymbolSetVersion hands out the version of a symbol set being written.
// It must run in the transaction that writes the set, so that a process that
// reads the clock finds every set up to it committed.
func nextSymbolSetVersion(ctx context.Context, q txRunner) (int64, error) {
	var version int64
	if err := q.QueryRowContext(ctx, "UPDATE symbol_set_clock SET version = version + 1 RETURNING version").Scan(&version); err != nil {
		return 0, fmt.Errorf("next symbol set version: %w", err)
	}
	return version, nil
}

// countSymbolSetDeletions records, in the transaction that deleted symbol
// sets, that some were: a deleted set leaves no row whose version could say so.
func countSymbolSetDeletions(ctx context.Context, q txRunner) error {
	if _, err := q.ExecContext(ctx, "UPDATE symbol_set_clock SET deletions = deletions + 1"); err != nil {
		return fmt.Errorf("count symbol set deletions: %w", err)
	}
	return nil
}

// SymbolSetClock reads how far symbol-set changes have come (symbols.Store).
func (d *DB) SymbolSetClock(ctx context.Context) (symbols.SymbolSetClock, error) {
	var c symbols.SymbolSetClock
	if err := d.read.QueryRowContext(ctx, "SELECT version, deletions FROM symbol_set_clock").Scan(&c.Version, &c.Deletions); err != nil {
		return c, fmt.Errorf("read symbol set clock: %w", err)
	}
	return c, nil
}

// SymbolSetsChangedSince lists the symbol sets written after version (symbols.Store).
func (d *DB) SymbolSetsChangedSince(ctx context.Context, version int64) ([]symbols.ChangedSymbolSet, error) {
	rows, err := d.read.QueryContext(ctx, "SELECT project_id, id, ref FROM symbol_sets WHERE version > ?", version)
	if err != nil {
		return nil, fmt.Errorf("symbol sets changed since version %d: %w", version, err)
	}
	defer rows.Close()
	var out []symbols.ChangedSymbolSet
	for rows.Next() {
		var c symbols.ChangedSymbolSet
		if err := rows.Scan(&c.ProjectID, &c.ID, &c.Ref); err != nil {
			return nil, fmt.Errorf("symbol sets changed since version %d: %w", version, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ClaimSymbolSetFetch claims the fetch of a project's ref for claimant
// until a time (symbols.Store): it succeeds when nobody holds the claim,
// when its holder's claim lapsed (that process died or hung), or when
// claimant holds it already (renewing it). It reports whether claimant
// holds the claim now.
func (d *DB) ClaimSymbolSetFetch(ctx context.Context, projectID int64, ref, claimant string, until time.Time) (bool, error) {
	now := millis(time.Now())
	rows, err := d.write.QueryContext(ctx, `INSERT INTO symbol_set_fetch_claims(project_id, ref, claimant, expires_at) VALUES (?, ?, ?, ?)
		ON CONFLICT(project_id, ref) DO UPDATE SET claimant = excluded.claimant, expires_at = excluded.expires_at
		WHERE symbol_set_fetch_claims.expires_at <= ? OR symbol_set_fetch_claims.claimant = excluded.claimant
		RETURNING claimant`, projectID, ref, claimant, millis(until), now)
	if err != nil {
		return false, fmt.Errorf("claim the fetch of %s: %w", ref, err)
	}
	defer rows.Close()
	held := rows.Next()
	if err := rows.Close(); err != nil {
		return false, fmt.Errorf("claim the fetch of %s: %w", ref, err)
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("claim the fetch of %s: %w", ref, err)
	}
	return held, nil
}

// ReleaseSymbolSetFetch gives up claimant's claim on the fetch of a
// project's ref, once its outcome is stored (symbols.Store).
func (d *DB) ReleaseSymbolSetFetch(ctx context.Context, projectID int64, ref, claimant string) error {
	if _, err := d.write.ExecContext(ctx, "DELETE FROM symbol_set_fetch_claims WHERE project_id = ? AND ref = ? AND claimant = ?",
		projectID, ref, claimant); err != nil {
		return fmt.Errorf("release the fetch of %s: %w", ref, err)
	}
	return nil
}

// SymbolSetFetchClaimed tells whether anyone holds an unexpired claim on the
// fetch of a project's ref (symbols.Store). It reads, so a process waiting
// for another's fetch does not queue behind writers to ask.
func (d *DB) SymbolSetFetchClaimed(ctx context.Context, projectID int64, ref string) (bool, error) {
	var n int
	if err := d.read.QueryRowContext(ctx, "SELECT count(*) FROM symbol_set_fetch_claims WHERE project_id = ? AND ref = ? AND expires_at > ?",
		projectID, ref, millis(time.Now())).Scan(&n); err != nil {
		return false, fmt.Errorf("is the fetch of %s claimed: %w", ref, err)
	}
	return n > 0, nil
}
