package db

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/stacklens/stacklens/event"
	"github.com/stacklens/stacklens/symbols"
)

// blobCodec compresses symbol-set files with zstd: maps are repetitive text
// and shrink five- to tenfold, which keeps the one-file database small.
type blobCodec struct {
	enc *zstd.Encoder
	dec *zstd.Decoder
}

func newBlobCodec() (blobCodec, error) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		return blobCodec{}, fmt.Errorf("zstd encoder: %w", err)
	}
	dec, err := zstd.NewReader(nil)
	if err != nil {
		return blobCodec{}, fmt.Errorf("zstd decoder: %w", err)
	}
	return blobCodec{enc: enc, dec: dec}, nil
}

func (c blobCodec) compress(b []byte) []byte {
	if b == nil {
		return nil
	}
	return c.enc.EncodeAll(b, nil)
}

func (c blobCodec) decompress(b []byte) ([]byte, error) {
	if b == nil {
		return nil, nil
	}
	return c.dec.DecodeAll(b, nil)
}

const symbolSetColumns = `id, project_id, ref, ref_kind, state, origin, minified_url, map_url, content_hash,
	size_bytes, failure, created_at, updated_at, last_used_at, version`

func scanSymbolSet(row interface{ Scan(...any) error }) (symbols.SymbolSet, error) {
	var s symbols.SymbolSet
	var kind, state string
	var failure sql.NullString
	var created, updated int64
	var used sql.NullInt64
	if err := row.Scan(&s.ID, &s.ProjectID, &s.Ref, &kind, &state, &s.Origin, &s.MinifiedURL, &s.MapURL,
		&s.ContentHash, &s.SizeBytes, &failure, &created, &updated, &used, &s.Version); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return symbols.SymbolSet{}, ErrNotFound
		}
		return symbols.SymbolSet{}, err
	}
	s.Kind = symbols.RefKind(kind)
	s.Stored = state == "stored"
	if failure.Valid && failure.String != "" {
		s.Failure = &symbols.Failure{}
		if err := json.Unmarshal([]byte(failure.String), s.Failure); err != nil {
			return symbols.SymbolSet{}, fmt.Errorf("decode failure of symbol set %d: %w", s.ID, err)
		}
	}
	s.CreatedAt, s.UpdatedAt, s.LastUsedAt = fromMillis(created), fromMillis(updated), nullMillis(used)
	return s, nil
}

// SymbolSet finds a project's symbol set by ref, without its blobs.
// It returns symbols.ErrNoSymbolSet when there is none.
func (d *DB) SymbolSet(ctx context.Context, projectID int64, ref string) (symbols.SymbolSet, error) {
	return symbolSetByRef(ctx, d.write, projectID, ref)
}

func symbolSetByRef(ctx context.Context, q txRunner, projectID int64, ref string) (symbols.SymbolSet, error) {
	s, err := scanSymbolSet(q.QueryRowContext(ctx, "SELECT "+symbolSetColumns+" FROM symbol_sets WHERE project_id = ? AND ref = ?", projectID, ref))
	if errors.Is(err, ErrNotFound) {
		return s, symbols.ErrNoSymbolSet
	}
	if err != nil {
		return s, fmt.Errorf("load symbol set %s: %w", ref, err)
	}
	return s, nil
}

// SymbolSetFiles loads the stored map and minified source of a symbol set.
func (d *DB) SymbolSetFiles(ctx context.Context, id int64) (sourceMap, minified []byte, err error) {
	var mapZ, minZ []byte
	if err := d.read.QueryRowContext(ctx, "SELECT sourcemap, minified FROM symbol_sets WHERE id = ?", id).Scan(&mapZ, &minZ); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil, symbols.ErrNoSymbolSet
		}
		return nil, nil, fmt.Errorf("load files of symbol set %d: %w", id, err)
	}
	if sourceMap, err = d.blobs.decompress(mapZ); err != nil {
		return nil, nil, fmt.Errorf("decompress map of symbol set %d: %w", id, err)
	}
	if minified, err = d.blobs.decompress(minZ); err != nil {
		return nil, nil, fmt.Errorf("decompress minified source of symbol set %d: %w", id, err)
	}
	return sourceMap, minified, nil
}

// SaveSymbolSet creates or replaces the symbol set of (ProjectID, Ref): stored
// with its files when failure is nil, else missing with the failure.
func (d *DB) SaveSymbolSet(ctx context.Context, s symbols.SymbolSet, sourceMap, minified []byte) (symbols.SymbolSet, error) {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return s, fmt.Errorf("save symbol set %s: %w", s.Ref, err)
	}
	defer tx.Rollback()
	saved, err := d.saveSymbolSet(ctx, tx, s, sourceMap, minified)
	if err != nil {
		return s, err
	}
	if err := tx.Commit(); err != nil {
		return s, fmt.Errorf("save symbol set %s: %w", s.Ref, err)
	}
	return saved, nil
}

// saveSymbolSet must run in a transaction: the set's new version and the
// clock that hands it out commit together.
func (d *DB) saveSymbolSet(ctx context.Context, q txRunner, s symbols.SymbolSet, sourceMap, minified []byte) (symbols.SymbolSet, error) {
	now := millis(time.Now())
	version, err := nextSymbolSetVersion(ctx, q)
	if err != nil {
		return s, fmt.Errorf("save symbol set %s: %w", s.Ref, err)
	}
	state, origin := "stored", s.Origin
	var failure any
	var hash string
	if s.Failure != nil {
		state, origin, sourceMap, minified = "missing", "", nil, nil
		b, err := json.Marshal(s.Failure)
		if err != nil {
			return s, fmt.Errorf("encode failure: %w", err)
		}
		failure = string(b)
	} else {
		sum := sha256.Sum256(sourceMap)
		hash = hex.EncodeToString(sum[:])
	}
	size := int64(len(sourceMap) + len(minified))
	_, err = q.ExecContext(ctx, `INSERT INTO symbol_sets(project_id, ref, ref_kind, state, origin, minified_url, map_url,
		minified, sourcemap, content_hash, size_bytes, failure, created_at, updated_at, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(project_id, ref) DO UPDATE SET ref_kind = excluded.ref_kind, state = excluded.state,
			origin = excluded.origin, minified_url = excluded.minified_url, map_url = excluded.map_url,
			minified = excluded.minified, sourcemap = excluded.sourcemap, content_hash = excluded.content_hash,
			size_bytes = excluded.size_bytes, failure = excluded.failure, updated_at = excluded.updated_at,
			version = excluded.version`,
		s.ProjectID, s.Ref, string(s.Kind), state, origin, s.MinifiedURL, s.MapURL, d.blobs.compress(minified), d.blobs.compress(sourceMap),
		hash, size, failure, now, now, version)
	if err != nil {
		return s, fmt.Errorf("save symbol set %s: %w", s.Ref, err)
	}
	return symbolSetByRef(ctx, q, s.ProjectID, s.Ref)
}

// TouchSymbolSet records that a symbol set was just used to resolve a frame.
func (d *DB) TouchSymbolSet(ctx context.Context, id int64, at time.Time) error {
	if _, err := d.write.ExecContext(ctx, "UPDATE symbol_sets SET last_used_at = ? WHERE id = ?", millis(at), id); err != nil {
		return fmt.Errorf("touch symbol set %d: %w", id, err)
	}
	return nil
}

// SaveFrameResolutions records what symbolication said about frames, by raw id.
func (d *DB) SaveFrameResolutions(ctx context.Context, projectID int64, frames []event.Frame) error {
	if len(frames) == 0 {
		return nil
	}
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save frame resolutions: %w", err)
	}
	defer tx.Rollback()
	if err := saveFrameResolutions(ctx, tx, projectID, frames); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save frame resolutions: %w", err)
	}
	return nil
}

func saveFrameResolutions(ctx context.Context, tx txRunner, projectID int64, frames []event.Frame) error {
	now := millis(time.Now())
	for _, f := range frames {
		if f.Resolution == nil || f.RawID == "" {
			continue
		}
		b, err := json.Marshal(f.Resolution)
		if err != nil {
			return fmt.Errorf("encode resolution: %w", err)
		}
		asSent := f
		asSent.Resolution = nil
		frame, err := json.Marshal(asSent)
		if err != nil {
			return fmt.Errorf("encode frame: %w", err)
		}
		var setID any
		if f.Resolution.SymbolSetID != 0 {
			setID = f.Resolution.SymbolSetID
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO frame_resolutions(project_id, raw_id, symbol_set_id, frame, resolution, updated_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(project_id, raw_id) DO UPDATE SET symbol_set_id = excluded.symbol_set_id,
			resolution = excluded.resolution, updated_at = excluded.updated_at`, projectID, f.RawID, setID, frame, b, now); err != nil {
			return fmt.Errorf("save resolution of frame %s: %w", f.RawID, err)
		}
	}
	return nil
}

// FrameResolutions returns the current resolution of each raw id that has one.
func (d *DB) FrameResolutions(ctx context.Context, projectID int64, rawIDs []string) (map[string]event.Resolution, error) {
	out := make(map[string]event.Resolution, len(rawIDs))
	for start := 0; start < len(rawIDs); start += 500 {
		chunk := rawIDs[start:min(start+500, len(rawIDs))]
		var q bytes.Buffer
		q.WriteString("SELECT raw_id, resolution FROM frame_resolutions WHERE project_id = ? AND raw_id IN (")
		args := []any{projectID}
		for i, id := range chunk {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteByte('?')
			args = append(args, id)
		}
		q.WriteByte(')')
		rows, err := d.read.QueryContext(ctx, q.String(), args...)
		if err != nil {
			return nil, fmt.Errorf("load frame resolutions: %w", err)
		}
		for rows.Next() {
			var id string
			var b []byte
			if err := rows.Scan(&id, &b); err != nil {
				rows.Close()
				return nil, fmt.Errorf("load frame resolutions: %w", err)
			}
			var r event.Resolution
			if err := json.Unmarshal(b, &r); err != nil {
				rows.Close()
				return nil, fmt.Errorf("decode resolution of frame %s: %w", id, err)
			}
			out[id] = r
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("load frame resolutions: %w", err)
		}
	}
	return out, nil
}

// SymbolSetByID loads one symbol set of a project, without its blobs.
func (d *DB) SymbolSetByID(ctx context.Context, projectID, id int64) (symbols.SymbolSet, error) {
	return symbolSetByID(ctx, d.read, projectID, id)
}

func symbolSetByID(ctx context.Context, q txRunner, projectID, id int64) (symbols.SymbolSet, error) {
	s, err := scanSymbolSet(q.QueryRowContext(ctx, "SELECT "+symbolSetColumns+" FROM symbol_sets WHERE project_id = ? AND id = ?", projectID, id))
	if errors.Is(err, ErrNotFound) {
		return s, symbols.ErrNoSymbolSet
	}
	if err != nil {
		return s, fmt.Errorf("load symbol set %d: %w", id, err)
	}
	return s, nil
}

// FramesOfSymbolSet returns, as sent, every distinct frame last resolved with a symbol set.
func (d *DB) FramesOfSymbolSet(ctx context.Context, projectID, symbolSetID int64) ([]event.Frame, error) {
	rows, err := d.read.QueryContext(ctx, "SELECT frame FROM frame_resolutions WHERE project_id = ? AND symbol_set_id = ?", projectID, symbolSetID)
	if err != nil {
		return nil, fmt.Errorf("frames of symbol set %d: %w", symbolSetID, err)
	}
	defer rows.Close()
	var out []event.Frame
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("frames of symbol set %d: %w", symbolSetID, err)
		}
		var f event.Frame
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("decode frame of symbol set %d: %w", symbolSetID, err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// DeleteSymbolSet removes a symbol set and its files.
func (d *DB) DeleteSymbolSet(ctx context.Context, projectID, id int64) error {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete symbol set %d: %w", id, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, "DELETE FROM symbol_sets WHERE project_id = ? AND id = ?", projectID, id)
	if err != nil {
		return fmt.Errorf("delete symbol set %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return symbols.ErrNoSymbolSet
	}
	if err := countSymbolSetDeletions(ctx, tx); err != nil {
		return fmt.Errorf("delete symbol set %d: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete symbol set %d: %w", id, err)
	}
	return nil
}

// ApplyCurrentResolutions replaces each frame's resolution in ev by the one
// recorded now: symbol sets stored after the event arrived apply to it too.
func (d *DB) ApplyCurrentResolutions(ctx context.Context, projectID int64, ev *event.Event) error {
	var ids []string
	for _, ex := range ev.Exceptions {
		for _, f := range ex.Frames {
			if f.RawID != "" {
				ids = append(ids, f.RawID)
			}
		}
	}
	current, err := d.FrameResolutions(ctx, projectID, ids)
	if err != nil {
		return err
	}
	for i := range ev.Exceptions {
		for j := range ev.Exceptions[i].Frames {
			f := &ev.Exceptions[i].Frames[j]
			if r, ok := current[f.RawID]; ok {
				f.Resolution = &r
			}
		}
	}
	return nil
}
