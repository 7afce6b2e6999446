package symbols_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stacklens/stacklens/symbols"
)

// bulkFiles is a build folder with the minified file and map of chunk, as
// the bulk upload form sends it.
func bulkFiles(chunk string) []symbols.UploadFile {
	minified := []byte("function " + chunk + "(){throw new Error(\"x\")}\n//# chunkId=" + chunk + "\n//# sourceMappingURL=" + chunk + ".js.map\n")
	sourceMap := []byte(`{"version":3,"file":"` + chunk + `.js","sources":["src/` + chunk + `.ts"],"sourcesContent":["export function ` + chunk +
		`() { throw new Error('x') }\n"],"names":["` + chunk + `"],"mappings":"AAAA,SAASA"}`)
	return []symbols.UploadFile{{Name: chunk + ".js", Data: minified}, {Name: chunk + ".js.map", Data: sourceMap}, {Name: "notes.txt", Data: []byte("not a bundle")}}
}

// A batch kept by one process is confirmed through another on the same
// database, as when a load balancer sends the confirmation elsewhere.
func TestBulkBatchConfirmedThroughAnotherProcess(t *testing.T) {
	e := newUploadEnv(t)
	user, err := e.db.CreateFirstAdmin(e.ctx, "a@x.test", "h")
	if err != nil {
		t.Fatal(err)
	}
	started, err := e.uploads.StartUpload(e.ctx, e.project, "chunk-a", "")
	if err != nil {
		t.Fatal(err)
	}
	owner := symbols.BatchOwner{ProjectID: e.project, UserID: user.ID}
	files := bulkFiles("chunk-a")
	batch, err := e.uploads.KeepBatch(e.ctx, owner, files)
	if err != nil {
		t.Fatal(err)
	}

	other := e.loc.Open(t)
	otherUploads := newUploads(other)
	if _, err := otherUploads.LoadBatch(e.ctx, batch, symbols.BatchOwner{ProjectID: e.project, UserID: user.ID + 1}); !errors.Is(err, symbols.ErrBatchGone) {
		t.Errorf("someone else's load: %v, want ErrBatchGone", err)
	}
	loaded, err := otherUploads.LoadBatch(e.ctx, batch, owner)
	if err != nil {
		t.Fatalf("load through the other process: %v", err)
	}
	if len(loaded) != len(files) {
		t.Fatalf("loaded %d files, kept %d", len(loaded), len(files))
	}
	for i, f := range loaded {
		if f.Name != files[i].Name || string(f.Data) != string(files[i].Data) {
			t.Errorf("file %d came back as %q (%d bytes), kept %q (%d bytes)", i, f.Name, len(f.Data), files[i].Name, len(files[i].Data))
		}
	}
	stored, _, err := otherUploads.StoreBatch(e.ctx, e.project, loaded, false)
	if err != nil || stored != 1 {
		t.Fatalf("store: %d stored, %v; want 1", stored, err)
	}
	if err := otherUploads.DropBatch(e.ctx, batch); err != nil {
		t.Fatal(err)
	}
	if set, err := e.db.SymbolSetByID(e.ctx, e.project, started.SymbolSetID); err != nil || !set.Stored {
		t.Errorf("the first process sees symbol set %+v, %v; want it stored", set, err)
	}
	if _, err := e.uploads.LoadBatch(e.ctx, batch, owner); !errors.Is(err, symbols.ErrBatchGone) {
		t.Errorf("loading a confirmed batch through the first process: %v, want ErrBatchGone", err)
	}
	if n := e.count(t, "SELECT count(*) FROM upload_batch_files"); n != 0 {
		t.Errorf("%d files of a confirmed batch stay in the database", n)
	}
}

// A batch older than BatchLifetime is refused and removed; the next upload
// removes the expired batches nobody came back for.
func TestBulkBatchExpires(t *testing.T) {
	e := newUploadEnv(t)
	user, err := e.db.CreateFirstAdmin(e.ctx, "a@x.test", "h")
	if err != nil {
		t.Fatal(err)
	}
	owner := symbols.BatchOwner{ProjectID: e.project, UserID: user.ID}
	start := time.Now()
	e.uploads.SetClock(func() time.Time { return start })
	loadedLater, err := e.uploads.KeepBatch(e.ctx, owner, bulkFiles("chunk-a"))
	if err != nil {
		t.Fatal(err)
	}
	forgotten, err := e.uploads.KeepBatch(e.ctx, owner, bulkFiles("chunk-b"))
	if err != nil {
		t.Fatal(err)
	}

	e.uploads.SetClock(func() time.Time { return start.Add(symbols.BatchLifetime - time.Second) })
	if _, err := e.uploads.LoadBatch(e.ctx, loadedLater, owner); err != nil {
		t.Fatalf("a batch within its lifetime: %v", err)
	}
	e.uploads.SetClock(func() time.Time { return start.Add(symbols.BatchLifetime + time.Second) })
	if _, err := e.uploads.LoadBatch(e.ctx, loadedLater, owner); !errors.Is(err, symbols.ErrBatchGone) {
		t.Fatalf("an expired batch: %v, want ErrBatchGone", err)
	}
	if n := e.count(t, "SELECT count(*) FROM upload_batches"); n != 1 {
		t.Errorf("%d batches after loading an expired one, want only the one nobody loaded", n)
	}
	if n := e.count(t, "SELECT count(*) FROM upload_batch_files"); n != 3 {
		t.Errorf("%d files after loading an expired batch, want the other batch's 3", n)
	}

	fresh, err := e.uploads.KeepBatch(e.ctx, owner, bulkFiles("chunk-c"))
	if err != nil {
		t.Fatal(err)
	}
	if n := e.count(t, "SELECT count(*) FROM upload_batches"); n != 1 {
		t.Errorf("%d batches after the next upload, want only the new one", n)
	}
	if _, err := e.uploads.LoadBatch(e.ctx, forgotten, owner); !errors.Is(err, symbols.ErrBatchGone) {
		t.Errorf("a forgotten expired batch: %v, want ErrBatchGone", err)
	}
	if _, err := e.uploads.LoadBatch(e.ctx, fresh, owner); err != nil {
		t.Errorf("the new batch: %v", err)
	}
}
