package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stacklens/stacklens/artifactbundle"
)

// The queries of sentry-cli's chunked uploads (artifactbundle.Store).

// SaveUploadChunks keeps chunks until an assembly uses them; a chunk sent
// again keeps its first copy (its name is the hash of its content).
func (d *DB) SaveUploadChunks(ctx context.Context, chunks []artifactbundle.Chunk, at time.Time) error {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save upload chunks: %w", err)
	}
	defer tx.Rollback()
	for _, c := range chunks {
		if _, err := tx.ExecContext(ctx, `INSERT INTO upload_chunks(sha1, data, size_bytes, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT(sha1) DO UPDATE SET created_at = excluded.created_at`, c.SHA1, c.Data, len(c.Data), millis(at)); err != nil {
			return fmt.Errorf("save upload chunk %s: %w", c.SHA1, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save upload chunks: %w", err)
	}
	return nil
}

// inList is "(?,?,…)" for n values.
func inList(n int) string {
	return "(" + strings.TrimSuffix(strings.Repeat("?,", n), ",") + ")"
}

func stringArgs(values []string) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return out
}

// MissingUploadChunks returns, in the order given, the chunks not stored.
func (d *DB) MissingUploadChunks(ctx context.Context, sha1s []string) ([]string, error) {
	have := map[string]bool{}
	for start := 0; start < len(sha1s); start += 500 {
		part := sha1s[start:min(start+500, len(sha1s))]
		rows, err := d.write.QueryContext(ctx, "SELECT sha1 FROM upload_chunks WHERE sha1 IN "+inList(len(part)), stringArgs(part)...)
		if err != nil {
			return nil, fmt.Errorf("find upload chunks: %w", err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return nil, fmt.Errorf("find upload chunks: %w", err)
			}
			have[s] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("find upload chunks: %w", err)
		}
	}
	missing := []string{}
	seen := map[string]bool{}
	for _, s := range sha1s {
		if !have[s] && !seen[s] {
			missing = append(missing, s)
			seen[s] = true
		}
	}
	return missing, nil
}

// UploadChunks loads chunks in the order given (a chunk may repeat).
func (d *DB) UploadChunks(ctx context.Context, sha1s []string) ([][]byte, error) {
	out := make([][]byte, len(sha1s))
	for i, s := range sha1s {
		if err := d.write.QueryRowContext(ctx, "SELECT data FROM upload_chunks WHERE sha1 = ?", s).Scan(&out[i]); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return nil, fmt.Errorf("load upload chunk %s: %w", s, ErrNotFound)
			}
			return nil, fmt.Errorf("load upload chunk %s: %w", s, err)
		}
	}
	return out, nil
}

// UploadChunkSizes gives the size of each stored chunk of sha1s.
func (d *DB) UploadChunkSizes(ctx context.Context, sha1s []string) (map[string]int64, error) {
	out := map[string]int64{}
	for start := 0; start < len(sha1s); start += 500 {
		part := sha1s[start:min(start+500, len(sha1s))]
		rows, err := d.write.QueryContext(ctx, "SELECT sha1, size_bytes FROM upload_chunks WHERE sha1 IN "+inList(len(part)), stringArgs(part)...)
		if err != nil {
			return nil, fmt.Errorf("sizes of upload chunks: %w", err)
		}
		for rows.Next() {
			var s string
			var n int64
			if err := rows.Scan(&s, &n); err != nil {
				rows.Close()
				return nil, fmt.Errorf("sizes of upload chunks: %w", err)
			}
			out[s] = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("sizes of upload chunks: %w", err)
		}
	}
	return out, nil
}

// UploadChunkBytes is the size of all chunks waiting for an assembly.
func (d *DB) UploadChunkBytes(ctx context.Context) (int64, error) {
	var n int64
	if err := d.write.QueryRowContext(ctx, "SELECT COALESCE(SUM(size_bytes), 0) FROM upload_chunks").Scan(&n); err != nil {
		return 0, fmt.Errorf("size of upload chunks: %w", err)
	}
	return n, nil
}

// DeleteUploadChunks removes chunks an assembly used.
func (d *DB) DeleteUploadChunks(ctx context.Context, sha1s []string) error {
	for start := 0; start < len(sha1s); start += 500 {
		part := sha1s[start:min(start+500, len(sha1s))]
		if _, err := d.write.ExecContext(ctx, "DELETE FROM upload_chunks WHERE sha1 IN "+inList(len(part)), stringArgs(part)...); err != nil {
			return fmt.Errorf("delete upload chunks: %w", err)
		}
	}
	return nil
}

// DeleteUploadChunksBefore removes chunks no assembly claimed in time.
func (d *DB) DeleteUploadChunksBefore(ctx context.Context, before time.Time) error {
	if _, err := d.write.ExecContext(ctx, "DELETE FROM upload_chunks WHERE created_at < ?", millis(before)); err != nil {
		return fmt.Errorf("delete old upload chunks: %w", err)
	}
	return nil
}

// BundleAssembly is the recorded outcome of an assembly, or artifactbundle.ErrNoAssembly.
func (d *DB) BundleAssembly(ctx context.Context, key string) (artifactbundle.Assembly, error) {
	a := artifactbundle.Assembly{Key: key}
	var updated int64
	err := d.write.QueryRowContext(ctx, "SELECT state, detail, updated_at FROM bundle_assemblies WHERE bundle_key = ?", key).Scan(&a.State, &a.Detail, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return a, artifactbundle.ErrNoAssembly
	}
	if err != nil {
		return a, fmt.Errorf("load assembly of %s: %w", key, err)
	}
	a.UpdatedAt = fromMillis(updated)
	return a, nil
}

// ClaimBundleAssembly marks key as being assembled unless a claim made
// after claimedAfter or a result newer than resultAfter stands; one
// statement, so two requests cannot both claim it.
func (d *DB) ClaimBundleAssembly(ctx context.Context, key string, at, claimedAfter, resultAfter time.Time) (bool, error) {
	res, err := d.write.ExecContext(ctx, `INSERT INTO bundle_assemblies(bundle_key, state, detail, updated_at) VALUES (?, 'created', '', ?)
		ON CONFLICT(bundle_key) DO UPDATE SET state = 'created', detail = '', updated_at = excluded.updated_at
		WHERE (bundle_assemblies.state = 'created' AND bundle_assemblies.updated_at <= ?)
			OR (bundle_assemblies.state <> 'created' AND bundle_assemblies.updated_at <= ?)`,
		key, millis(at), millis(claimedAfter), millis(resultAfter))
	if err != nil {
		return false, fmt.Errorf("claim assembly of %s: %w", key, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SetBundleAssembly records the outcome of an assembly.
func (d *DB) SetBundleAssembly(ctx context.Context, a artifactbundle.Assembly) error {
	if _, err := d.write.ExecContext(ctx, `INSERT INTO bundle_assemblies(bundle_key, state, detail, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT(bundle_key) DO UPDATE SET state = excluded.state, detail = excluded.detail, updated_at = excluded.updated_at`,
		a.Key, a.State, a.Detail, millis(a.UpdatedAt)); err != nil {
		return fmt.Errorf("record assembly of %s: %w", a.Key, err)
	}
	// Outcomes are only read while sentry-cli polls; old ones go.
	if _, err := d.write.ExecContext(ctx, "DELETE FROM bundle_assemblies WHERE updated_at < ?", millis(a.UpdatedAt.Add(-24*time.Hour))); err != nil {
		return fmt.Errorf("delete old assemblies: %w", err)
	}
	return nil
}

// DeleteBundleAssembly forgets an assembly (one that failed for a reason
// other than its bundle, so that it can be tried again).
func (d *DB) DeleteBundleAssembly(ctx context.Context, key string) error {
	if _, err := d.write.ExecContext(ctx, "DELETE FROM bundle_assemblies WHERE bundle_key = ?", key); err != nil {
		return fmt.Errorf("forget assembly of %s: %w", key, err)
	}
	return nil
}
