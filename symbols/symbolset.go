package symbols

import (
	"errors"
	"time"
)

// ErrNoSymbolSet is returned by a Store when a project has no symbol set for a ref.
var ErrNoSymbolSet = errors.New("no symbol set")

// Origins of stored symbol sets.
const (
	OriginFetched  = "fetched"
	OriginUploaded = "uploaded"
)

// SymbolSet is what resolves the frames of one minified file: stored (a map
// and, when known, the minified source) or missing with its Failure.
type SymbolSet struct {
	ID          int64
	ProjectID   int64
	Ref         string
	Kind        RefKind
	Stored      bool
	Origin      string
	MinifiedURL string
	MapURL      string
	ContentHash string
	SizeBytes   int64
	Failure     *Failure // nil when stored
	CreatedAt   time.Time
	UpdatedAt   time.Time
	LastUsedAt  time.Time
	// Version changes whenever the set's content is written (stored,
	// replaced, failed again): what a cache built from it is checked against.
	Version int64
}

// SymbolSetClock says how far the changes of symbol sets have come, in the
// database all processes share: the last version handed out to a set, and
// how many sets were deleted so far.
type SymbolSetClock struct {
	Version   int64
	Deletions int64
}

// ChangedSymbolSet names a symbol set written since some version.
type ChangedSymbolSet struct {
	ProjectID int64
	ID        int64
	Ref       string
}
