package symbols_test

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/internal/teststore"
	"github.com/stacklens/stacklens/pipeline"
	"github.com/stacklens/stacklens/symbols"
)

// These tests run the upload service on a real SQLite file, with the real
// worker resolving frames again, and read what was written back from the file.

type uploadEnv struct {
	ctx     context.Context
	db      *db.DB
	loc     teststore.Location
	uploads *symbols.Uploads
	project int64
}

func newUploadEnv(t *testing.T) *uploadEnv {
	t.Helper()
	ctx := context.Background()
	loc := teststore.New(t)
	d := loc.Open(t)
	p, err := d.CreateProject(ctx, "uploads")
	if err != nil {
		t.Fatal(err)
	}
	return &uploadEnv{ctx: ctx, db: d, loc: loc, project: p.ID, uploads: newUploads(d)}
}

// newUploads builds the upload service over d as the server does, with the real worker.
func newUploads(d *db.DB) *symbols.Uploads {
	resolver := symbols.NewResolver(d, symbols.ResolverConfig{})
	worker := pipeline.New(d, resolver, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return symbols.NewUploads(d, worker, symbols.UploadConfig{})
}

// count runs a COUNT(*) query on the database file itself.
func (e *uploadEnv) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	return int(e.loc.Count(t, query, args...))
}

func blobFor(t *testing.T, name string) ([]byte, string) {
	t.Helper()
	minified := []byte("function " + name + "(){throw new Error(\"x\")}\n//# chunkId=" + name + "\n")
	sourceMap := []byte(`{"version":3,"file":"` + name + `.js","sources":["src/` + name + `.ts"],"sourcesContent":["export function ` + name +
		`() { throw new Error('x') }\n"],"names":["` + name + `"],"mappings":"AAAA,SAASA"}`)
	blob := symbols.EncodeUploadBlob(symbols.BlobVersion2, false, minified, sourceMap)
	sum := sha512.Sum512(blob)
	return blob, hex.EncodeToString(sum[:])
}

// upload runs posthog-cli's three steps for one chunk and fails the test on any refusal.
func (e *uploadEnv) upload(t *testing.T, chunk, release string) string {
	t.Helper()
	blob, hash := blobFor(t, chunk)
	started, err := e.uploads.StartUploads(e.ctx, e.project, []symbols.StartRequest{{ChunkID: chunk, Release: release, ContentHash: hash}}, symbols.StartOptions{})
	if err != nil || len(started) != 1 {
		t.Fatalf("start %s: %v, %d started", chunk, err, len(started))
	}
	id, err := e.uploads.UploadLinkTarget(e.ctx, started[0].Token, "")
	if err != nil {
		t.Fatalf("link of %s: %v", chunk, err)
	}
	if err := e.uploads.ReceiveBlob(e.ctx, id, blob); err != nil {
		t.Fatalf("receive %s: %v", chunk, err)
	}
	if _, err := e.uploads.FinishUploads(e.ctx, e.project, map[string]string{itoa(started[0].SymbolSetID): hash}); err != nil {
		t.Fatalf("finish %s: %v", chunk, err)
	}
	return hash
}

func itoa(n int64) string {
	b := []byte{}
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		if n /= 10; n == 0 {
			return string(b)
		}
	}
}

func problemOf(t *testing.T, err error) *symbols.UploadProblem {
	t.Helper()
	var p *symbols.UploadProblem
	if !errors.As(err, &p) {
		t.Fatalf("err = %v, want a refusal", err)
	}
	return p
}

// A start request whose third chunk conflicts is refused with nothing
// written: not the release the first chunk would have been given, not the
// second chunk's new symbol set, not any pending upload.
func TestStartUploadsRefusedHalfWayCreatesNothing(t *testing.T) {
	e := newUploadEnv(t)
	hashA := e.upload(t, "chunk-a", "")
	e.upload(t, "chunk-c", "")
	_, otherHash := blobFor(t, "something-else")
	setsBefore := e.count(t, "SELECT count(*) FROM symbol_sets")

	_, err := e.uploads.StartUploads(e.ctx, e.project, []symbols.StartRequest{
		{ChunkID: "chunk-a", Release: "v2", ContentHash: hashA}, // same content: would only record the release
		{ChunkID: "chunk-b", Release: "v2"},                     // new: would be created, waiting for its file
		{ChunkID: "chunk-c", Release: "v2", ContentHash: otherHash},
	}, symbols.StartOptions{})
	if p := problemOf(t, err); p.Kind != symbols.ProblemConflict || p.Code != "content_hash_mismatch" {
		t.Fatalf("refusal = %+v, want a content_hash_mismatch conflict", p)
	}
	if n := e.count(t, "SELECT count(*) FROM symbol_sets"); n != setsBefore {
		t.Errorf("%d symbol sets after the refusal, want %d", n, setsBefore)
	}
	if n := e.count(t, "SELECT count(*) FROM symbol_sets WHERE ref = 'chunk-b'"); n != 0 {
		t.Errorf("chunk-b was created by a refused request")
	}
	if n := e.count(t, "SELECT count(*) FROM symbol_sets WHERE release != ''"); n != 0 {
		t.Errorf("%d symbol sets got a release from a refused request", n)
	}
	if n := e.count(t, "SELECT count(*) FROM symbol_set_uploads"); n != 0 {
		t.Errorf("%d pending uploads left by a refused request", n)
	}

	// The same request without the conflict does all of it.
	started, err := e.uploads.StartUploads(e.ctx, e.project, []symbols.StartRequest{
		{ChunkID: "chunk-a", Release: "v2", ContentHash: hashA}, {ChunkID: "chunk-b", Release: "v2"},
	}, symbols.StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(started) != 1 || started[0].ChunkID != "chunk-b" {
		t.Fatalf("started %+v, want only chunk-b", started)
	}
	if n := e.count(t, "SELECT count(*) FROM symbol_sets WHERE release = 'v2'"); n != 2 {
		t.Errorf("%d symbol sets in release v2, want chunk-a and chunk-b", n)
	}
}

// A finish naming one good and one corrupted file stores neither.
func TestFinishUploadsOneBadFileStoresNone(t *testing.T) {
	e := newUploadEnv(t)
	good, goodHash := blobFor(t, "good")
	started, err := e.uploads.StartUploads(e.ctx, e.project, []symbols.StartRequest{{ChunkID: "good", ContentHash: goodHash}, {ChunkID: "bad"}}, symbols.StartOptions{})
	if err != nil || len(started) != 2 {
		t.Fatalf("start: %v, %d", err, len(started))
	}
	hashes := map[string]string{}
	for _, s := range started {
		blob, hash := good, goodHash
		if s.ChunkID == "bad" {
			blob = []byte("posthog_error_tracking but not really")
			sum := sha512.Sum512(blob)
			hash = hex.EncodeToString(sum[:])
		}
		id, err := e.uploads.UploadLinkTarget(e.ctx, s.Token, itoa(s.UploadID))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.uploads.ReceiveBlob(e.ctx, id, blob); err != nil {
			t.Fatal(err)
		}
		hashes[itoa(s.SymbolSetID)] = hash
	}
	_, err = e.uploads.FinishUploads(e.ctx, e.project, hashes)
	if p := problemOf(t, err); p.Code != "invalid_file" {
		t.Fatalf("refusal = %+v, want invalid_file", p)
	}
	if n := e.count(t, "SELECT count(*) FROM symbol_sets WHERE state = 'stored'"); n != 0 {
		t.Errorf("%d symbol sets stored by a refused finish", n)
	}
	if n := e.count(t, "SELECT count(*) FROM symbol_set_uploads WHERE uploaded_at IS NOT NULL"); n != 2 {
		t.Errorf("%d uploaded files still waiting, want both (the client may finish again)", n)
	}
}

// A link signed for one purpose or altered is refused.
func TestUploadLinksAreChecked(t *testing.T) {
	e := newUploadEnv(t)
	started, err := e.uploads.StartUpload(e.ctx, e.project, "chunk", "")
	if err != nil {
		t.Fatal(err)
	}
	download, err := e.uploads.SignLink(e.ctx, symbols.LinkDownload, e.project, started.UploadID, started.ExpiresAt)
	if err != nil {
		t.Fatal(err)
	}
	for name, token := range map[string]string{"download link": download, "altered": started.Token + "x", "empty": ""} {
		_, err := e.uploads.UploadLinkTarget(e.ctx, token, "")
		if p := problemOf(t, err); p.Kind != symbols.ProblemForbidden {
			t.Errorf("%s: %+v, want forbidden", name, p)
		}
	}
	if _, err := e.uploads.UploadLinkTarget(e.ctx, started.Token, "999999"); err == nil {
		t.Errorf("a key of another upload was accepted")
	}
	if _, err := e.uploads.UploadLinkTarget(e.ctx, started.Token, itoa(started.UploadID)); err != nil {
		t.Errorf("the link handed out was refused: %v", err)
	}
}
