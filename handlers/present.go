package handlers

import (
	"github.com/stacklens/stacklens/event"
)

// frameInfo is one frame as pages and the API show it: the resolved view when
// symbolication found one, else the frame as the client sent it.
type frameInfo struct {
	MangledName    string
	ResolvedName   string
	Source         string
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
	info.Source, info.Line, info.Column, info.InApp = r.Source, r.Line, r.Column, r.InApp
	return info
}
