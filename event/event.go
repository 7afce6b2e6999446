// Package event holds stacklens's model of a captured exception event and
// turns what the SDKs send into it: PostHog's capture formats (Sentry's are
// not decoded yet). It does no I/O.
package event

import (
	"encoding/json"
	"time"
)

// Event is one captured exception event, normalised to PostHog's shape:
// Exceptions lists the top error first, then its causes.
type Event struct {
	UUID       string      `json:"uuid"`
	DistinctID string      `json:"distinct_id,omitempty"`
	Timestamp  time.Time   `json:"timestamp"`
	Exceptions []Exception `json:"exception_list"`

	// Fingerprint is the client's override ($exception_fingerprint, or
	// Sentry's fingerprint without a {{ default }} part); empty when absent.
	Fingerprint string `json:"fingerprint,omitempty"`
	// FingerprintParts is a Sentry client fingerprint that extends the
	// default grouping: its DefaultFingerprintPart entries stand for the
	// fingerprint stacklens computes itself (see Fingerprint).
	FingerprintParts []string `json:"fingerprint_parts,omitempty"`
	Level            string   `json:"level,omitempty"`
	IssueName        string   `json:"issue_name,omitempty"`
	IssueDescription string   `json:"issue_description,omitempty"`

	URL        string `json:"url,omitempty"`
	Lib        string `json:"lib,omitempty"`
	LibVersion string `json:"lib_version,omitempty"`
	Release    string `json:"release,omitempty"`
	SessionID  string `json:"session_id,omitempty"`
	Browser    string `json:"browser,omitempty"`
	OS         string `json:"os,omitempty"`

	// Properties are the event's properties as sent, without $exception_list.
	Properties json.RawMessage `json:"properties,omitempty"`

	// What Sentry SDKs send beside the exceptions, kept for the issue page
	// and the API. PostHog events leave them empty (their facts stay in
	// Properties), but for Environment, read from a $environment or
	// environment property.
	Environment string                     `json:"environment,omitempty"`
	Platform    string                     `json:"platform,omitempty"` // the SDK's platform: javascript, node, python, go…
	ServerName  string                     `json:"server_name,omitempty"`
	Transaction string                     `json:"transaction,omitempty"`
	Dist        string                     `json:"dist,omitempty"`
	User        map[string]any             `json:"user,omitempty"`
	Tags        map[string]string          `json:"tags,omitempty"`
	Contexts    map[string]json.RawMessage `json:"contexts,omitempty"`
	Breadcrumbs []Breadcrumb               `json:"breadcrumbs,omitempty"`
	SDK         *SDK                       `json:"sdk,omitempty"`
}

// Breadcrumb is one of the things an SDK recorded before the error (a
// click, a log line, a request), oldest first.
type Breadcrumb struct {
	Timestamp time.Time       `json:"timestamp,omitzero"`
	Type      string          `json:"type,omitempty"`
	Category  string          `json:"category,omitempty"`
	Level     string          `json:"level,omitempty"`
	Message   string          `json:"message,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
}

// SDK names the client library that sent an event.
type SDK struct {
	Name         string   `json:"name,omitempty"`
	Version      string   `json:"version,omitempty"`
	Integrations []string `json:"integrations,omitempty"`
}

// Exception is one error of an event's chain.
type Exception struct {
	Type      string    `json:"type"`
	Value     string    `json:"value"`
	Mechanism Mechanism `json:"mechanism"`
	// StacktraceType is "raw" or "resolved", as the client said.
	StacktraceType string `json:"stacktrace_type,omitempty"`
	// Frames are oldest call first, crash site last (the wire order).
	Frames []Frame `json:"frames"`
}

// Mechanism says how the exception was captured.
type Mechanism struct {
	Type        string `json:"type,omitempty"`
	Handled     *bool  `json:"handled,omitempty"`
	Synthetic   bool   `json:"synthetic,omitempty"`
	Source      string `json:"source,omitempty"`
	ExceptionID *int   `json:"exception_id,omitempty"`
	ParentID    *int   `json:"parent_id,omitempty"`
}

// Frame is one stack frame as the client sent it, plus what symbolication
// found for it.
type Frame struct {
	RawID    string `json:"raw_id"`
	Platform string `json:"platform,omitempty"`
	Filename string `json:"filename,omitempty"`
	AbsPath  string `json:"abs_path,omitempty"`
	Function string `json:"function,omitempty"`
	Module   string `json:"module,omitempty"`
	Lineno   int    `json:"lineno,omitempty"`
	Colno    int    `json:"colno,omitempty"`
	InApp    bool   `json:"in_app"`
	ChunkID  string `json:"chunk_id,omitempty"`
	DebugID  string `json:"debug_id,omitempty"`

	ContextLine string   `json:"context_line,omitempty"`
	PreContext  []string `json:"pre_context,omitempty"`
	PostContext []string `json:"post_context,omitempty"`

	// Resolution is nil until symbolication has looked at the frame, and
	// stays nil for frames that need none (already original code).
	Resolution *Resolution `json:"resolution,omitempty"`
}

// Resolution is what a symbol set said about a minified frame.
type Resolution struct {
	Resolved bool   `json:"resolved"`
	Name     string `json:"name,omitempty"`   // original name of the enclosing function
	Source   string `json:"source,omitempty"` // original file
	// SourceIndex is Source's index in the map's sources, since two may share
	// a name; resolutions stored before it existed read as 0 and are looked
	// up by name (symbols.SourceMap.FindSource).
	SourceIndex int  `json:"source_index,omitempty"`
	Line        int  `json:"line,omitempty"`   // 1-based
	Column      int  `json:"column,omitempty"` // 1-based
	InApp       bool `json:"in_app"`
	// FailureCode is a stable code (symbols.Failure*) when Resolved is false.
	FailureCode string `json:"failure_code,omitempty"`
	// SymbolSetRef identifies the symbol set that was used or is missing.
	SymbolSetRef string `json:"symbol_set_ref,omitempty"`
	SymbolSetID  int64  `json:"symbol_set_id,omitempty"`
}
