package artifactbundle_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stacklens/stacklens/artifactbundle"
	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/internal/teststore"
)

func openDB(t *testing.T) *db.DB {
	t.Helper()
	return teststore.Open(t)
}

// split cuts data into chunks of size n as sentry-cli does.
func split(data []byte, n int) (chunks []artifactbundle.Chunk, names []string) {
	for start := 0; start < len(data); start += n {
		part := data[start:min(start+n, len(data))]
		chunks = append(chunks, artifactbundle.Chunk{SHA1: artifactbundle.SHA1Hex(part), Data: part})
		names = append(names, artifactbundle.SHA1Hex(part))
	}
	return chunks, names
}

func TestAssembleStates(t *testing.T) {
	ctx := context.Background()
	d := openDB(t)
	bundle, err := os.ReadFile("testdata/sentry-cli-3.8.0.sysb")
	if err != nil {
		t.Fatal(err)
	}
	svc := artifactbundle.New(d, artifactbundle.Config{MaxUploadBytes: 1 << 20, ChunkBytes: 1000})
	chunks, names := split(bundle, 1000)
	if len(chunks) < 3 {
		t.Fatalf("want a bundle of several chunks, got %d", len(chunks))
	}
	var saved []artifactbundle.Set
	save := func(_ context.Context, sets []artifactbundle.Set, release string) error {
		if release != "web@2" {
			t.Errorf("release = %q", release)
		}
		saved = append(saved, sets...)
		return nil
	}
	req := func() artifactbundle.Request {
		return artifactbundle.Request{Checksum: artifactbundle.SHA1Hex(bundle), Chunks: slices.Clone(names), Projects: []int64{1}, Release: "web@2"}
	}

	// Nothing uploaded: every chunk is missing.
	res, err := svc.Assemble(ctx, req(), save)
	if err != nil || res.State != artifactbundle.StateNotFound || !slices.Equal(res.MissingChunks, names) {
		t.Fatalf("before upload: %+v, %v", res, err)
	}
	// One chunk uploaded: the others are missing, in order.
	if err := svc.SaveChunks(ctx, chunks[:1]); err != nil {
		t.Fatal(err)
	}
	res, err = svc.Assemble(ctx, req(), save)
	if err != nil || res.State != artifactbundle.StateNotFound || !slices.Equal(res.MissingChunks, names[1:]) {
		t.Fatalf("after one chunk: %+v, %v", res, err)
	}
	if err := svc.SaveChunks(ctx, chunks[1:]); err != nil {
		t.Fatal(err)
	}
	res, err = svc.Assemble(ctx, req(), save)
	if err != nil || res.State != artifactbundle.StateOK || len(saved) != 1 || saved[0].DebugID != "517b81d8-c6fd-5743-9d27-df64050f6eaa" {
		t.Fatalf("assembled: %+v, %v, saved %d", res, err, len(saved))
	}
	// The chunks are gone once assembled; a poll still reads ok and stores nothing again.
	if missing, err := d.MissingUploadChunks(ctx, names); err != nil || len(missing) != len(names) {
		t.Errorf("chunks left after assembly: missing %v of %d, %v", missing, len(names), err)
	}
	res, err = svc.Assemble(ctx, req(), save)
	if err != nil || res.State != artifactbundle.StateOK || len(saved) != 1 {
		t.Fatalf("poll after ok: %+v, %v, saved %d", res, err, len(saved))
	}
	// The same bundle for another project is assembled for it (its chunks uploaded again).
	other := req()
	other.Projects = []int64{2}
	if res, _ := svc.Assemble(ctx, other, save); res.State != artifactbundle.StateNotFound {
		t.Errorf("other project before its upload: %+v", res)
	}

	// Chunks in the wrong order: the whole has another SHA-1 → error, nothing stored.
	swapped := req()
	swapped.Checksum = strings.Repeat("ab", 20)
	if err := svc.SaveChunks(ctx, chunks); err != nil {
		t.Fatal(err)
	}
	res, err = svc.Assemble(ctx, swapped, save)
	if err != nil || res.State != artifactbundle.StateError || !strings.Contains(res.Detail, "not the checksum") || len(saved) != 1 {
		t.Fatalf("checksum mismatch: %+v, %v", res, err)
	}

	// A claim in progress answers created.
	claimed := req()
	claimed.Projects = []int64{3}
	if err := svc.SaveChunks(ctx, chunks); err != nil {
		t.Fatal(err)
	}
	key := claimed.Checksum + ":" + artifactbundle.SHA1Hex([]byte(strings.Join(claimed.Chunks, ",")+"\x00web@2\x00")) + ":3"
	if ok, err := d.ClaimBundleAssembly(ctx, key, nowish(), farPast(), farPast()); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if res, err := svc.Assemble(ctx, claimed, save); err != nil || res.State != artifactbundle.StateCreated {
		t.Fatalf("while claimed: %+v, %v", res, err)
	}

	// Bad requests are problems, not states.
	bad := req()
	bad.Checksum = "nope"
	if _, err := svc.Assemble(ctx, bad, save); err == nil {
		t.Error("a checksum that is no SHA-1 was accepted")
	}
}

func nowish() time.Time  { return time.Now() }
func farPast() time.Time { return time.Now().Add(-24 * time.Hour) }
