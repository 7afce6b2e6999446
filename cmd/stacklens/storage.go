package main

import (
	"github.com/stacklens/stacklens/artifactbundle"
	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/handlers"
	"github.com/stacklens/stacklens/notify"
	"github.com/stacklens/stacklens/pipeline"
	"github.com/stacklens/stacklens/ratelimit"
	"github.com/stacklens/stacklens/retention"
	"github.com/stacklens/stacklens/symbols"
	"github.com/stacklens/stacklens/web"
)

// The SQLite engine is every consumer's storage. Each consumer owns the
// interface it needs (docs/ARCHITECTURE.md, "Storage engines"); these
// assertions keep *db.DB honest to all of them at compile time.
var (
	_ pipeline.Store       = (*db.DB)(nil)
	_ notify.Store         = (*db.DB)(nil)
	_ retention.Store      = (*db.DB)(nil)
	_ symbols.Store        = (*db.DB)(nil)
	_ symbols.UploadStore  = (*db.DB)(nil)
	_ artifactbundle.Store = (*db.DB)(nil)
	_ handlers.Store       = (*db.DB)(nil)
	_ handlers.Inbox       = (*db.InboxWriter)(nil)
	_ web.Store            = (*db.DB)(nil)
	_ ratelimit.Usage      = (*db.DB)(nil)
)
