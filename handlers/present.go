package handlers

import (
	"strings"

	"github.com/stacklens/stacklens/event"
)

// frameInfo is one frame as pages and the API show it: the resolved view when
// symbolication found one, else the frame as the client sent it.
type frameInfo struct {
	MangledName    string
	ResolvedName   string
	Source         string
	SourceIndex    int // in the symbol set's map: Source may not be unique
	Line, Column   int
	InApp          bool
	Resolved       bool
	ResolveFailure string
	SymbolSetID    int64
}

func describeFrame(f event.Frame) frameInfo {
	file := f.Filename
	if file == "" {
		file = f.AbsPath
	}
	info := frameInfo{MangledName: f.Function, ResolvedName: f.Function, Source: file,
		Line: f.Lineno, Column: f.Colno, InApp: f.InApp, Resolved: true}
	r := f.Resolution
	if r == nil {
		// Nothing needed resolving (or no symbolication ran): the frame is shown as sent.
		return info
	}
	info.SymbolSetID = r.SymbolSetID
	if !r.Resolved {
		info.Resolved = false
		info.ResolveFailure = r.FailureCode
		return info
	}
	if r.Name != "" {
		info.ResolvedName = r.Name
	}
	info.Source, info.SourceIndex, info.Line, info.Column, info.InApp = r.Source, r.SourceIndex, r.Line, r.Column, r.InApp
	return info
}

// displaySource shortens an original source name for people: source maps
// usually name files relative to the map ("../src/orders.js") or with a
// bundler scheme ("webpack://app/./src/orders.js"); "src/orders.js" is
// what a developer recognises. Lookups keep using the full name.
func displaySource(source string) string {
	if i := strings.Index(source, "://"); i > 0 && !strings.HasPrefix(source, "http") {
		source = source[i+3:]
		if j := strings.Index(source, "/"); j >= 0 && !strings.HasPrefix(source, ".") {
			source = source[j+1:]
		}
	}
	for {
		switch {
		case strings.HasPrefix(source, "../"):
			source = source[3:]
		case strings.HasPrefix(source, "./"):
			source = source[2:]
		default:
			return source
		}
	}
}
