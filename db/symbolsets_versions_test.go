package db

import (
	"context"
	"testing"
	"time"

	"github.com/stacklens/stacklens/symbols"
)

// Every write of a set's content gives it a version above every earlier
// one, the clock names the last, and a delete counts on the clock.
func TestSymbolSetVersionsAndClock(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	clock := func() symbols.SymbolSetClock {
		t.Helper()
		c, err := d.SymbolSetClock(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	start := clock()
	save := func(ref, source string) symbols.SymbolSet {
		t.Helper()
		s, err := d.SaveSymbolSet(ctx, symbols.SymbolSet{ProjectID: 1, Ref: ref, Kind: symbols.RefChunkID, Stored: true,
			Origin: symbols.OriginUploaded}, []byte(`{"version":3,"sources":["`+source+`"],"names":[],"mappings":"AAAA"}`), nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a1 := save("a", "one.js")
	b1 := save("b", "one.js")
	a2 := save("a", "two.js")
	if a2.ID != a1.ID || !(a1.Version < b1.Version && b1.Version < a2.Version) {
		t.Errorf("versions a=%d, b=%d, a again=%d: want each write above the last", a1.Version, b1.Version, a2.Version)
	}
	if c := clock(); c.Version != a2.Version || c.Deletions != start.Deletions {
		t.Errorf("clock %+v after the writes, want version %d and no deletion", c, a2.Version)
	}
	changed, err := d.SymbolSetsChangedSince(ctx, b1.Version)
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 1 || changed[0] != (symbols.ChangedSymbolSet{ProjectID: 1, ID: a2.ID, Ref: "a"}) {
		t.Errorf("changed since b's write: %+v, want only a", changed)
	}
	if err := d.DeleteSymbolSet(ctx, 1, b1.ID); err != nil {
		t.Fatal(err)
	}
	if c := clock(); c.Deletions != start.Deletions+1 {
		t.Errorf("clock %+v after a delete, want deletions %d", c, start.Deletions+1)
	}
}

// A claim is held by one claimant at a time, renewed by it, and taken by
// another only once it lapsed or was released.
func TestSymbolSetFetchClaims(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	const ref = "https://cdn.test/app.js"
	claim := func(who string, until time.Time) bool {
		t.Helper()
		held, err := d.ClaimSymbolSetFetch(ctx, 1, ref, who, until)
		if err != nil {
			t.Fatal(err)
		}
		return held
	}
	claimed := func() bool {
		t.Helper()
		c, err := d.SymbolSetFetchClaimed(ctx, 1, ref)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	later := time.Now().Add(time.Hour)
	if claimed() || !claim("a", later) || !claimed() {
		t.Fatal("a first claim was not taken")
	}
	if claim("b", later) {
		t.Error("b took a's live claim")
	}
	if !claim("a", later.Add(time.Minute)) {
		t.Error("a could not renew its own claim")
	}
	if err := d.ReleaseSymbolSetFetch(ctx, 1, ref, "b"); err != nil {
		t.Fatal(err)
	}
	if !claimed() {
		t.Error("b released a's claim")
	}
	if err := d.ReleaseSymbolSetFetch(ctx, 1, ref, "a"); err != nil {
		t.Fatal(err)
	}
	if claimed() || !claim("b", time.Now().Add(-time.Second)) {
		t.Error("b could not claim a released fetch")
	}
	// b's claim has lapsed (b died): c takes it over.
	if claimed() || !claim("c", later) {
		t.Error("c could not take over a lapsed claim")
	}
}
