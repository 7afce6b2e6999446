package handlers

import (
	"context"
	"time"

	"github.com/stacklens/stacklens/artifactbundle"
	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/event"
	"github.com/stacklens/stacklens/signin"
	"github.com/stacklens/stacklens/symbols"
)

// The handlers' storage, one interface per resource, each listing exactly
// the methods the handlers call (docs/ARCHITECTURE.md, "Storage engines").
// A handler reaches each through its own field of Handlers (h.issues,
// h.accounts, ...), so a file's dependencies read off its calls. *db.DB
// implements them all (asserted in cmd/stacklens/storage.go); the domain
// types stay in package db.
//
// A lookup of one thing that does not exist answers db.ErrNotFound, except
// where an interface says otherwise.

// Store is all the storage the handlers need: the resources below, and what
// New builds the upload services over.
type Store interface {
	IngestStore
	HealthStore
	IssueStore
	TriageStore
	ProjectStore
	AccountStore
	NotificationStore
	ReleaseStore
	SymbolSetStore
	// symbols.Uploads writes uploaded source maps through it.
	symbols.UploadStore
	// artifactbundle.Service keeps sentry-cli's chunks and assemblies in it.
	artifactbundle.Store
	// signin.Limiter counts failed sign-ins in it.
	signin.Store
}

// Inbox takes capture requests' events (db.InboxWriter, which commits
// several requests' rows together) and says when it cannot.
type Inbox interface {
	// Append returns once rows are committed; it stores nothing and
	// returns a *db.RefusedError when the inbox or the disk is full. Rows
	// without a UUID are given one in place.
	Append(ctx context.Context, rows []db.InboxRow) error
	// Refusal is the refusal an Append would get now, or nil; cheap enough
	// to ask before reading a request's body.
	Refusal() error
	// Ready is what /readyz reports.
	Ready(ctx context.Context) db.Readiness
}

// IngestStore is what the SDK endpoints read: PostHog capture, Sentry
// ingest and posthog-js's remote config find the project by its public
// token. The events themselves go to the Inbox.
type IngestStore interface {
	ProjectByToken(ctx context.Context, token string) (db.Project, error)
}

// HealthStore answers /healthz.
type HealthStore interface {
	Ping(ctx context.Context) error
}

// IssueStore reads issues for the list, the issue and event pages, their
// charts and filters, and the JSON API.
type IssueStore interface {
	ListIssues(ctx context.Context, q db.IssueQuery) (db.IssuePage, error)
	Issue(ctx context.Context, projectID, id int64) (db.Issue, error)
	IssueFate(ctx context.Context, projectID, id int64) (db.IssueFate, error)
	IssueEvents(ctx context.Context, projectID, issueID int64, limit int) ([]db.StoredEvent, error)
	IssueEvent(ctx context.Context, projectID, issueID int64, uuid string) (db.StoredEvent, error)
	LatestIssueEvent(ctx context.Context, projectID, issueID int64, f db.EventFilter) (db.StoredEvent, error)
	IssueEventNeighbors(ctx context.Context, projectID, issueID int64, e db.StoredEvent, f db.EventFilter) (db.EventNeighbors, error)
	IssueEventSummaries(ctx context.Context, projectID, issueID int64, after *db.EventCursor, limit int, f db.EventFilter) (list []db.EventSummary, more bool, err error)
	ApplyCurrentResolutions(ctx context.Context, projectID int64, ev *event.Event) error
	IssuesEventCounts(ctx context.Context, projectID int64, ids []int64, f db.EventFilter) (map[int64]db.EventCounts, error)
	IssuesOccurrences(ctx context.Context, projectID int64, ids []int64, b db.Buckets, f db.EventFilter) (map[int64][]int64, error)
	IssueOccurrences(ctx context.Context, projectID, issueID int64, b db.Buckets, f db.EventFilter) ([]int64, error)
	IssuesCrashFrames(ctx context.Context, projectID int64, ids []int64) (map[int64]event.Frame, error)
	IssueTimeline(ctx context.Context, projectID, issueID int64) ([]db.Activity, error)
	IssueReleases(ctx context.Context, projectID, issueID int64) ([]db.ValueCount, error)
	TopValues(ctx context.Context, projectID, issueID int64, key string, limit int) ([]db.ValueCount, int64, error)
	FilteredTopValues(ctx context.Context, projectID, issueID int64, key string, limit int, f db.EventFilter) ([]db.ValueCount, int64, error)
	ProjectTags(ctx context.Context, projectID int64, limit int) ([]db.Tag, error)
	ProjectValues(ctx context.Context, projectID int64, key string) ([]string, error)
}

// TriageStore changes issues on a person's request: status, assignee,
// name and description, merges.
type TriageStore interface {
	ChangeIssueStatus(ctx context.Context, projectID, id int64, ch db.StatusChange) error
	ChangeIssuesStatus(ctx context.Context, projectID int64, ids []int64, ch db.StatusChange) (int, error)
	AssignIssue(ctx context.Context, projectID, id, userID int64, actor string) error
	EditIssue(ctx context.Context, projectID, id int64, name, description, actor string) error
	MergeIssuesBy(ctx context.Context, projectID, into int64, from []int64, actor string) (int, error)
}

// ProjectStore reads and changes projects and their settings (retention,
// rate limit, autocapture), and finds the project a page's issue or symbol
// set belongs to. CreateProject and RenameProject answer
// db.ErrProjectNameTaken for a name in use.
type ProjectStore interface {
	Projects(ctx context.Context) ([]db.Project, error)
	FirstProject(ctx context.Context) (db.Project, error)
	Project(ctx context.Context, id int64) (db.Project, error)
	ProjectOfIssue(ctx context.Context, id int64) (int64, error)
	ProjectOfSymbolSet(ctx context.Context, id int64) (int64, error)
	ProjectIssueCounts(ctx context.Context) (map[int64]int64, error)
	CreateProject(ctx context.Context, name string) (db.Project, error)
	RenameProject(ctx context.Context, id int64, name string) error
	ProjectRetention(ctx context.Context, projectID int64) (db.ProjectRetention, error)
	SetProjectRetention(ctx context.Context, r db.ProjectRetention) error
	SetRateLimit(ctx context.Context, projectID int64, perSecond *int64) error
	SetAutocaptureExceptions(ctx context.Context, projectID int64, on bool) error
	RejectedInboxReasons(ctx context.Context, projectID int64, limit int) ([]db.RejectedReason, error)
}

// AccountStore keeps people and how they prove who they are: users, the
// first admin, sessions, invites and personal API keys. CreateFirstAdmin,
// CreateInvite and AcceptInvite answer db.ErrExists when the account is
// there already; SetUserAdmin and DeleteUser db.ErrLastAdmin when no admin
// would be left.
type AccountStore interface {
	CountUsers(ctx context.Context) (int, error)
	CreateFirstAdmin(ctx context.Context, email, passwordHash string) (db.User, error)
	Users(ctx context.Context) ([]db.User, error)
	UserByID(ctx context.Context, id int64) (db.User, error)
	UserByEmail(ctx context.Context, email string) (db.User, error)
	SetUserAdmin(ctx context.Context, id int64, admin bool) error
	DeleteUser(ctx context.Context, id int64) error
	CreateSession(ctx context.Context, s db.Session) error
	SessionUser(ctx context.Context, tokenHash string, now time.Time) (db.Session, db.User, error)
	DeleteSession(ctx context.Context, tokenHash string) error
	CreateInvite(ctx context.Context, tokenHash, email string, admin bool, invitedBy int64, expires time.Time) (db.Invite, error)
	PendingInvite(ctx context.Context, tokenHash string, now time.Time) (db.Invite, error)
	PendingInvites(ctx context.Context, now time.Time) ([]db.Invite, error)
	AcceptInvite(ctx context.Context, tokenHash, passwordHash string, now time.Time) (db.User, error)
	RevokeInvite(ctx context.Context, id int64) error
	APIKeys(ctx context.Context, userID int64) ([]db.APIKey, error)
	CreateAPIKey(ctx context.Context, userID int64, label, keyHash, mask string) (db.APIKey, error)
	RevokeAPIKey(ctx context.Context, userID, id int64) error
	APIKeyOwner(ctx context.Context, id int64) (int64, error)
	UserByAPIKey(ctx context.Context, keyHash string) (db.User, error)
	TouchAPIKey(ctx context.Context, keyHash string) error
}

// NotificationStore keeps a project's notification channels and shows
// their deliveries (notify.Notifier delivers them).
type NotificationStore interface {
	NotificationChannels(ctx context.Context, projectID int64) ([]db.NotificationChannel, error)
	NotificationChannel(ctx context.Context, projectID, id int64) (db.NotificationChannel, error)
	ProjectOfNotificationChannel(ctx context.Context, id int64) (int64, error)
	CreateNotificationChannel(ctx context.Context, ch db.NotificationChannel) (int64, error)
	UpdateNotificationChannel(ctx context.Context, ch db.NotificationChannel) error
	SetNotificationChannelEnabled(ctx context.Context, projectID, id int64, enabled bool) error
	DeleteNotificationChannel(ctx context.Context, projectID, id int64) error
	LastNotificationDeliveries(ctx context.Context, projectID int64) (map[int64]db.NotificationDelivery, error)
	RecentNotificationDeliveries(ctx context.Context, projectID int64, failedOnly bool, limit int) ([]db.NotificationDelivery, error)
	ChannelNotificationDeliveries(ctx context.Context, projectID, channelID int64, limit int) ([]db.NotificationDelivery, error)
	NotificationDelivery(ctx context.Context, projectID, id int64) (db.NotificationDelivery, error)
}

// ReleaseStore keeps the releases and deploys sentry-cli reports.
type ReleaseStore interface {
	Releases(ctx context.Context, projectIDs []int64, limit int) ([]db.Release, error)
	ReleasesOfVersion(ctx context.Context, version string) ([]db.Release, error)
	SaveReleases(ctx context.Context, projectIDs []int64, version string, change db.ReleaseChange) ([]db.Release, bool, error)
	UpdateReleases(ctx context.Context, projectIDs []int64, version string, change db.ReleaseChange) ([]db.Release, error)
	DeleteReleaseVersion(ctx context.Context, version string) error
	DeploysOfReleases(ctx context.Context, releaseIDs []int64) (map[int64][]db.Deploy, error)
	AddDeploys(ctx context.Context, releaseIDs []int64, dep db.Deploy) (db.Deploy, error)
}

// SymbolSetStore reads symbol sets for the settings pages, posthog-cli's
// API and the event page's code context, and deletes one. Lookups answer
// symbols.ErrNoSymbolSet when there is none (writes go through
// symbols.Uploads, reads of its frames through FramesOfSymbolSet).
type SymbolSetStore interface {
	ListSymbolSets(ctx context.Context, q db.SymbolSetQuery) ([]db.SymbolSetRow, int, error)
	SymbolSetRowByID(ctx context.Context, projectID, id int64) (db.SymbolSetRow, error)
	SymbolSetByID(ctx context.Context, projectID, id int64) (symbols.SymbolSet, error)
	SymbolSetFiles(ctx context.Context, id int64) (sourceMap []byte, minified []byte, err error)
	FramesOfSymbolSet(ctx context.Context, projectID, symbolSetID int64) ([]event.Frame, error)
	FrameResolutions(ctx context.Context, projectID int64, rawIDs []string) (map[string]event.Resolution, error)
	IssuesOfSymbolSet(ctx context.Context, projectID, symbolSetID int64) ([]db.IssueRef, error)
	IssueRefs(ctx context.Context, projectID int64, ids []int64) ([]db.IssueRef, error)
	DeleteSymbolSet(ctx context.Context, projectID, id int64) error
}
