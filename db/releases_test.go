package db

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A release created in several projects is all-or-nothing: when one
// project cannot take it (here: it does not exist, so its row breaks the
// foreign key), the projects before it do not keep it either.
func TestSaveReleasesIsOneTransaction(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	two, err := d.CreateProject(ctx, "Storefront")
	if err != nil {
		t.Fatal(err)
	}
	url := "https://ci.example/1"
	if _, _, err := d.SaveReleases(ctx, []int64{1, two.ID, 99}, "web@1.0.0", ReleaseChange{URL: &url}); err == nil {
		t.Fatal("saving a release into a project that does not exist succeeded")
	}
	if rows, err := d.ReleasesOfVersion(ctx, "web@1.0.0"); err != nil || len(rows) != 0 {
		t.Fatalf("after the failed save: %+v, %v; want no project to have the release", rows, err)
	}

	rows, created, err := d.SaveReleases(ctx, []int64{1, two.ID}, "web@1.0.0", ReleaseChange{URL: &url})
	if err != nil || !created || len(rows) != 2 || rows[0].ProjectID != 1 || rows[1].ProjectID != two.ID || rows[1].URL != url {
		t.Fatalf("save in two projects: %+v, created %v, %v", rows, created, err)
	}
	if _, created, err := d.SaveReleases(ctx, []int64{1, two.ID}, "web@1.0.0", ReleaseChange{}); err != nil || created {
		t.Errorf("save again: created %v, %v; want an existing release", created, err)
	}

	// An update naming a project without the release changes none.
	three, err := d.CreateProject(ctx, "Admin")
	if err != nil {
		t.Fatal(err)
	}
	released := time.UnixMilli(1767225600000)
	if _, err := d.UpdateReleases(ctx, []int64{1, three.ID}, "web@1.0.0", ReleaseChange{ReleasedAt: &released}); !errors.Is(err, ErrNotFound) {
		t.Errorf("update with a project lacking the release: %v, want ErrNotFound", err)
	}
	if rows, _ := d.ReleasesOfVersion(ctx, "web@1.0.0"); len(rows) != 2 || !rows[0].ReleasedAt.IsZero() {
		t.Errorf("after the refused update: %+v; want two rows, not released", rows)
	}
	rows, err = d.UpdateReleases(ctx, []int64{1, two.ID}, "web@1.0.0", ReleaseChange{ReleasedAt: &released})
	if err != nil || len(rows) != 2 || !rows[0].ReleasedAt.Equal(released) || !rows[1].ReleasedAt.Equal(released) {
		t.Errorf("finalize: %+v, %v", rows, err)
	}

	// Deploys of both rows, read back in one query, newest first.
	first := Deploy{Environment: "staging", FinishedAt: released}
	second := Deploy{Environment: "production", FinishedAt: released.Add(time.Hour)}
	for _, dep := range []Deploy{first, second} {
		if _, err := d.AddDeploys(ctx, []int64{rows[0].ID, rows[1].ID}, dep); err != nil {
			t.Fatal(err)
		}
	}
	deploys, err := d.DeploysOfReleases(ctx, []int64{rows[0].ID, rows[1].ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		got := deploys[r.ID]
		if len(got) != 2 || got[0].Environment != "production" || got[1].Environment != "staging" {
			t.Errorf("deploys of release %d: %+v; want production then staging", r.ID, got)
		}
	}

	if err := d.DeleteReleaseVersion(ctx, "web@1.0.0"); err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteReleaseVersion(ctx, "web@1.0.0"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete again: %v, want ErrNotFound", err)
	}
	if deploys, _ := d.DeploysOfReleases(ctx, []int64{rows[0].ID}); len(deploys) != 0 {
		t.Errorf("deploys after delete: %+v", deploys)
	}
}
