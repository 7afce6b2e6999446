package artifactbundle

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stacklens/stacklens/symbols"
)

// Assembly states, as sentry-cli reads them.
const (
	StateNotFound = "not_found" // chunks are missing: upload MissingChunks, then ask again
	StateCreated  = "created"   // being assembled: ask again
	StateOK       = "ok"
	StateError    = "error" // Detail says why
)

// maxChunksPerBundle bounds the chunk list of one assemble request (the
// bundle's size is checked against MaxBundleBytes before its chunks are loaded).
const maxChunksPerBundle = 10000

// ErrNoAssembly is returned by a Store that has no result for a checksum.
var ErrNoAssembly = errors.New("no assembly")

// Assembly is what became of one assemble request (Request.key).
type Assembly struct {
	Key       string
	State     string // StateCreated, StateOK or StateError
	Detail    string
	UpdatedAt time.Time
}

// Store keeps chunks and assembly results (the db package implements it).
type Store interface {
	SaveUploadChunks(ctx context.Context, chunks []Chunk, at time.Time) error
	MissingUploadChunks(ctx context.Context, sha1s []string) ([]string, error)
	UploadChunks(ctx context.Context, sha1s []string) ([][]byte, error)
	// UploadChunkSizes gives the size of each stored chunk of sha1s.
	UploadChunkSizes(ctx context.Context, sha1s []string) (map[string]int64, error)
	UploadChunkBytes(ctx context.Context) (int64, error)
	DeleteUploadChunks(ctx context.Context, sha1s []string) error
	DeleteUploadChunksBefore(ctx context.Context, before time.Time) error
	BundleAssembly(ctx context.Context, key string) (Assembly, error)
	// ClaimBundleAssembly records key as being assembled now, unless an
	// assembly in progress since after claimedAfter, or a result newer than
	// resultAfter, exists; it reports whether it did.
	ClaimBundleAssembly(ctx context.Context, key string, at, claimedAfter, resultAfter time.Time) (bool, error)
	SetBundleAssembly(ctx context.Context, a Assembly) error
	DeleteBundleAssembly(ctx context.Context, key string) error
}

// Config bounds uploads. Zero fields take defaults from MaxUploadBytes.
type Config struct {
	// MaxUploadBytes caps one source map and its minified file (STACKLENS_MAX_UPLOAD_BYTES).
	MaxUploadBytes int64
	// ChunkBytes is the chunk size offered to sentry-cli.
	ChunkBytes int64
	// MaxBundleBytes caps an assembled bundle (sentry-cli's maxFileSize).
	MaxBundleBytes int64
	// MaxPendingBytes caps the chunks waiting for an assembly, all uploads together.
	MaxPendingBytes int64
	// ChunkTTL is how long an unclaimed chunk is kept.
	ChunkTTL time.Duration
	// ResultTTL is how long an assembly's outcome answers sentry-cli's polls.
	ResultTTL time.Duration
	// ClaimTTL is how long an assembly in progress keeps others from
	// starting the same one (longer than any assembly takes; a process that
	// died while assembling leaves its claim behind).
	ClaimTTL time.Duration
	Bundle   Limits
}

func (c Config) withDefaults() Config {
	if c.MaxUploadBytes <= 0 {
		c.MaxUploadBytes = symbols.DefaultMaxUploadBytes
	}
	if c.ChunkBytes <= 0 {
		c.ChunkBytes = 8 << 20
	}
	if c.MaxBundleBytes <= 0 {
		c.MaxBundleBytes = c.MaxUploadBytes
	}
	if c.MaxPendingBytes <= 0 {
		c.MaxPendingBytes = 4 * c.MaxBundleBytes
	}
	if c.ChunkTTL <= 0 {
		c.ChunkTTL = time.Hour
	}
	if c.ResultTTL <= 0 {
		c.ResultTTL = time.Hour
	}
	if c.ClaimTTL <= 0 {
		c.ClaimTTL = 10 * time.Minute
	}
	if c.Bundle == (Limits{}) {
		c.Bundle = DefaultLimits(c.MaxUploadBytes)
	}
	return c
}

// Service runs sentry-cli's chunked uploads over a Store.
type Service struct {
	store Store
	cfg   Config
	now   func() time.Time
}

// New makes a Service.
func New(store Store, cfg Config) *Service {
	return &Service{store: store, cfg: cfg.withDefaults(), now: time.Now}
}

// Config is the service's configuration with its defaults filled in.
func (s *Service) Config() Config { return s.cfg }

// SaveChunks keeps checked chunks until an assembly uses them. It refuses
// (a *Problem) when the chunks waiting would pass MaxPendingBytes.
func (s *Service) SaveChunks(ctx context.Context, chunks []Chunk) error {
	now := s.now()
	if err := s.store.DeleteUploadChunksBefore(ctx, now.Add(-s.cfg.ChunkTTL)); err != nil {
		return err
	}
	pending, err := s.store.UploadChunkBytes(ctx)
	if err != nil {
		return err
	}
	var size int64
	for _, c := range chunks {
		size += int64(len(c.Data))
	}
	if pending+size > s.cfg.MaxPendingBytes {
		return problemf("%d MiB of chunks already wait to be assembled; stacklens keeps at most %d MiB. Try again once running uploads finish.",
			pending>>20, s.cfg.MaxPendingBytes>>20)
	}
	return s.store.SaveUploadChunks(ctx, chunks, now)
}

// Request is an assemble request: the bundle's checksum and its chunks in order.
type Request struct {
	Checksum string
	Chunks   []string
	// Projects are the stacklens projects the bundle is for (a bundle's
	// outcome is remembered per checksum and projects).
	Projects []int64
	Release  string // sentry-cli's version, may be empty
	Dist     string
}

// Result is the answer to an assemble request.
type Result struct {
	State         string
	MissingChunks []string
	Detail        string
	// Stored is how many symbol sets this request stored (0 when it only reported a state).
	Stored int
}

// SaveSets stores the symbol sets of a bundle (for every project the
// upload names) with the release, all or none: a map it refuses is a
// *symbols.UploadProblem (symbols.Uploads.StoreDebugIDSets).
type SaveSets func(ctx context.Context, sets []Set, release string) error

// Assemble answers an assemble request: not_found with the chunks still
// missing; created while another request assembles the same bundle; else
// it assembles now, checks the whole bundle's SHA-1 and every source map,
// stores one symbol set per debug id through save (which checks every map
// and stores all or none) and answers ok, or error with the reason. The chunks are removed once
// the bundle is assembled. A *Problem is a request that makes no sense.
func (s *Service) Assemble(ctx context.Context, req Request, save SaveSets) (Result, error) {
	req.Checksum = strings.ToLower(strings.TrimSpace(req.Checksum))
	if !ValidSHA1(req.Checksum) {
		return Result{}, problemf("checksum must be the SHA-1 of the bundle (40 hex digits).")
	}
	if len(req.Chunks) == 0 {
		return Result{}, problemf("chunks must list the SHA-1 of every chunk of the bundle, in order.")
	}
	if len(req.Chunks) > maxChunksPerBundle {
		return Result{}, problemf("A bundle may have at most %d chunks, not %d.", maxChunksPerBundle, len(req.Chunks))
	}
	for i, c := range req.Chunks {
		req.Chunks[i] = strings.ToLower(strings.TrimSpace(c))
		if !ValidSHA1(req.Chunks[i]) {
			return Result{}, problemf("chunks[%d] is not a SHA-1 (40 hex digits).", i)
		}
	}
	key := req.key()
	now := s.now()
	claimedAfter, resultAfter := now.Add(-s.cfg.ClaimTTL), now.Add(-s.cfg.ResultTTL)
	a, err := s.store.BundleAssembly(ctx, key)
	switch {
	case errors.Is(err, ErrNoAssembly):
	case err != nil:
		return Result{}, err
	case a.State == StateCreated && a.UpdatedAt.After(claimedAfter), a.State != StateCreated && a.UpdatedAt.After(resultAfter):
		return Result{State: a.State, MissingChunks: []string{}, Detail: a.Detail}, nil
	}
	missing, err := s.store.MissingUploadChunks(ctx, req.Chunks)
	if err != nil {
		return Result{}, err
	}
	if len(missing) > 0 {
		return Result{State: StateNotFound, MissingChunks: missing}, nil
	}
	claimed, err := s.store.ClaimBundleAssembly(ctx, key, now, claimedAfter, resultAfter)
	if err != nil {
		return Result{}, err
	}
	if !claimed {
		return Result{State: StateCreated, MissingChunks: []string{}}, nil
	}
	result, err := s.assemble(ctx, req, save)
	if err != nil {
		// Not the bundle's fault: let a later request try again.
		if derr := s.store.DeleteBundleAssembly(ctx, key); derr != nil {
			return Result{}, errors.Join(err, derr)
		}
		return Result{}, err
	}
	if err := s.store.SetBundleAssembly(ctx, Assembly{Key: key, State: result.State, Detail: result.Detail, UpdatedAt: s.now()}); err != nil {
		return Result{}, err
	}
	// An assembled bundle's chunks are done with; a failed one's may still
	// make another request's bundle, and expire with ChunkTTL.
	if result.State == StateOK {
		if err := s.store.DeleteUploadChunks(ctx, req.Chunks); err != nil {
			return Result{}, err
		}
	}
	return result, nil
}

// key names the outcome of one request: the bundle's checksum, then the
// SHA-1 of its chunk list, release and dist, then the projects' ids.
func (r Request) key() string {
	ids := slices.Clone(r.Projects)
	slices.Sort(ids)
	var b strings.Builder
	b.WriteString(r.Checksum + ":")
	b.WriteString(SHA1Hex([]byte(strings.Join(r.Chunks, ",") + "\x00" + r.Release + "\x00" + r.Dist)))
	for _, id := range ids {
		b.WriteString(":" + strconv.FormatInt(id, 10))
	}
	return b.String()
}

func (s *Service) assemble(ctx context.Context, req Request, save SaveSets) (Result, error) {
	fail := func(format string, args ...any) (Result, error) {
		return Result{State: StateError, MissingChunks: []string{}, Detail: fmt.Sprintf(format, args...)}, nil
	}
	// The size first, from the stored sizes: the chunks are loaded only when they fit.
	sizes, err := s.store.UploadChunkSizes(ctx, req.Chunks)
	if err != nil {
		return Result{}, err
	}
	var size int64
	for _, c := range req.Chunks {
		size += sizes[c]
	}
	if size > s.cfg.MaxBundleBytes {
		return fail("The bundle is %d MiB; stacklens accepts at most %d MiB (STACKLENS_MAX_UPLOAD_BYTES).", size>>20, s.cfg.MaxBundleBytes>>20)
	}
	parts, err := s.store.UploadChunks(ctx, req.Chunks)
	if err != nil {
		return Result{}, err
	}
	data := make([]byte, 0, size)
	for _, p := range parts {
		data = append(data, p...)
	}
	if got := SHA1Hex(data); got != req.Checksum {
		return fail("The chunks put together have SHA-1 %s, not the checksum %s sent: upload the bundle again.", got, req.Checksum)
	}
	bundle, err := Read(data, s.cfg.Bundle)
	var problem *Problem
	if errors.As(err, &problem) {
		return fail("%s", problem.Message)
	}
	if err != nil {
		return Result{}, err
	}
	sets, withoutID := bundle.Sets()
	if len(sets) == 0 {
		return fail("None of the bundle's source maps carries a debug id (%s). stacklens matches uploads by debug id: run `sentry-cli sourcemaps inject <dir>` on the build, deploy what it wrote, and upload again.",
			listOrNone(withoutID))
	}
	release := strings.TrimSpace(req.Release)
	if release == "" {
		release = bundle.Attributes["release"]
	}
	if err := save(ctx, sets, release); err != nil {
		var up *symbols.UploadProblem
		if errors.As(err, &up) {
			return fail("%s", up.Message)
		}
		return Result{}, err
	}
	return Result{State: StateOK, MissingChunks: []string{}, Stored: len(sets)}, nil
}

func listOrNone(urls []string) string {
	if len(urls) == 0 {
		return "it has none"
	}
	if len(urls) > 5 {
		return strings.Join(urls[:5], ", ") + fmt.Sprintf(" and %d more", len(urls)-5)
	}
	return strings.Join(urls, ", ")
}
