package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/event"
	"github.com/stacklens/stacklens/highlight"
	"github.com/stacklens/stacklens/symbols"
	"github.com/stacklens/stacklens/views"
)

// contextRadius is how many lines of original source show on each side of a resolved frame's line.
const contextRadius = 10

// clientContextLines is how many of the context lines a client sent show on each side of a frame's line.
const clientContextLines = 15

// eventView is as much of ev as lim lets the page show. Views are built
// only for the exceptions and frames shown: an event may hold thousands.
func (h *Handlers) eventView(ctx context.Context, projectID int64, ev event.Event, se db.StoredEvent, lim views.EventLimits) views.EventView {
	v := views.EventView{UUID: ev.UUID, Timestamp: ev.Timestamp, RawJSON: prettyJSON(se.Raw)}
	v.Properties, v.HiddenProperties = properties(ev, lim.Properties)
	v.Facts = eventFacts(projectID, ev)
	framesLeft, codeLeft := lim.TotalFrames, lim.CodeBytes
	for i, ex := range ev.Exceptions {
		if i == lim.Exceptions {
			v.HiddenExceptions = len(ev.Exceptions) - i
			break
		}
		xv := views.ExceptionView{Type: ex.Type, Value: ex.Value, Handled: ex.Mechanism.Handled,
			Mechanism: ex.Mechanism.Type, IsCause: i > 0}
		// The wire order is oldest call first; people read the crash site first.
		n := len(ex.Frames)
		shown := func(k int) views.FrameView { return h.frameView(ctx, projectID, ex.Frames[n-1-k], &codeLeft) }
		head, tail := views.SplitFrames(n, min(lim.Frames, framesLeft))
		for k := 0; k < head; k++ {
			xv.Frames = append(xv.Frames, shown(k))
		}
		for k := n - tail; k < n; k++ {
			xv.TailFrames = append(xv.TailFrames, shown(k))
		}
		xv.HiddenFrames = n - head - tail
		framesLeft -= head + tail
		v.Exceptions = append(v.Exceptions, xv)
	}
	v.Failures = shareFailures(v.Exceptions)
	return v
}

// shareFailures lifts a reason several shown frames are unresolved by (a
// symbol set that failed covers every frame of its file) out of those
// frames, so the page says it once, with the frames it covers.
func shareFailures(exceptions []views.ExceptionView) []views.FailureGroup {
	type key struct{ sentence, url string }
	count := map[key]int{}
	each := func(do func(f *views.FrameView)) {
		for i := range exceptions {
			for _, frames := range [][]views.FrameView{exceptions[i].Frames, exceptions[i].TailFrames} {
				for k := range frames {
					if frames[k].Failure != "" {
						do(&frames[k])
					}
				}
			}
		}
	}
	each(func(f *views.FrameView) { count[key{f.Failure, f.FailureURL}]++ })
	var groups []views.FailureGroup
	at := map[key]int{}
	each(func(f *views.FrameView) {
		k := key{f.Failure, f.FailureURL}
		if count[k] < 2 {
			return
		}
		i, ok := at[k]
		if !ok {
			i = len(groups)
			at[k] = i
			groups = append(groups, views.FailureGroup{Sentence: f.Failure, URL: f.FailureURL})
		}
		groups[i].Frames = append(groups[i].Frames, views.SentFrame{Function: f.RawFunction, File: f.RawFile, Line: f.RawLine, Column: f.RawColumn})
		f.FailureShared = true
	})
	return groups
}

// frameView is one frame as the page shows it. Its code context counts
// against codeLeft, the page's budget of code HTML; a frame whose code no
// longer fits is shown without it.
func (h *Handlers) frameView(ctx context.Context, projectID int64, f event.Frame, codeLeft *int) views.FrameView {
	info := describeFrame(f)
	fv := views.FrameView{
		Function: info.ResolvedName, File: displaySource(info.Source), Line: info.Line, Column: info.Column,
		InApp: info.InApp, Platform: f.Platform, Resolved: info.Resolved,
		FromSourceMap: info.Resolved && info.SymbolSetID != 0,
		RawFunction:   f.Function, RawFile: firstNonEmpty(f.Filename, f.AbsPath), RawLine: f.Lineno, RawColumn: f.Colno,
	}
	if !info.Resolved {
		fv.Failure = h.failureSentence(ctx, projectID, info)
		if info.SymbolSetID != 0 {
			fv.FailureURL = fmt.Sprintf("/settings/symbol-sets/%d", info.SymbolSetID)
		}
	}
	fv.Code = clientContext(f)
	if info.Resolved && info.SymbolSetID != 0 {
		fv.Code = h.originalContext(ctx, projectID, info)
	}
	size := 0
	for _, l := range fv.Code {
		size += len(l.HTML)
	}
	if size > *codeLeft {
		fv.Code, fv.CodeHidden = nil, true
	} else {
		*codeLeft -= size
	}
	return fv
}

// originalContext is the highlighted original source around a resolved frame.
func (h *Handlers) originalContext(ctx context.Context, projectID int64, info frameInfo) []views.CodeLine {
	lines, ok, err := h.symbols.HighlightedSource(ctx, projectID, info.SymbolSetID, info.Source, info.SourceIndex)
	if err != nil {
		h.log.Warn("original source unavailable", "symbol_set", info.SymbolSetID, "source", info.Source, "err", err)
	}
	if !ok || info.Line < 1 || info.Line > len(lines) {
		return nil
	}
	first, last := max(info.Line-contextRadius, 1), min(info.Line+contextRadius, len(lines))
	out := make([]views.CodeLine, 0, last-first+1)
	for n := first; n <= last; n++ {
		out = append(out, views.CodeLine{Number: n, HTML: lines[n-1], IsErrorLine: n == info.Line})
	}
	return out
}

// clientContext highlights the context lines the SDK sent with the frame
// (posthog-node and posthog-python send them; browsers do not).
func clientContext(f event.Frame) []views.CodeLine {
	if f.ContextLine == "" && len(f.PreContext) == 0 && len(f.PostContext) == 0 {
		return nil
	}
	pre, post := f.PreContext, f.PostContext
	pre = pre[max(len(pre)-clientContextLines, 0):]
	post = post[:min(len(post), clientContextLines)]
	lines := make([]string, 0, len(pre)+1+len(post))
	lines = append(lines, pre...)
	lines = append(lines, f.ContextLine)
	lines = append(lines, post...)
	html := highlight.Snippet(firstNonEmpty(f.Filename, f.AbsPath), lines)
	first := f.Lineno - len(pre)
	if f.Lineno == 0 {
		first = 1
	}
	out := make([]views.CodeLine, len(html))
	for i, h := range html {
		// highlight cuts long lines (minified code) at MaxLineRunes; say how much.
		hidden := max(utf8.RuneCountInString(lines[i])-highlight.MaxLineRunes, 0)
		out[i] = views.CodeLine{Number: first + i, HTML: h, IsErrorLine: i == len(pre), Hidden: hidden}
	}
	return out
}

// failureSentence says in one line why a frame is not resolved: the symbol
// set's own message (what was fetched, what answered) when there is one.
func (h *Handlers) failureSentence(ctx context.Context, projectID int64, info frameInfo) string {
	if info.SymbolSetID != 0 {
		set, err := h.symbolSets.SymbolSetByID(ctx, projectID, info.SymbolSetID)
		if err == nil && set.Failure != nil && set.Failure.Message != "" {
			return strings.TrimSpace(sentence(set.Failure.Message) + " " + symbols.AdviceFor(set.Failure))
		}
	}
	return strings.TrimSpace(unresolvedSentence(info.ResolveFailure) + " " + symbols.Advice(info.ResolveFailure))
}

// sentence ends s with a full stop unless it ends a sentence already.
func sentence(s string) string {
	if s == "" || strings.ContainsAny(s[len(s)-1:], ".!?") {
		return s
	}
	return s + "."
}

// properties lists the client's own properties (PostHog's without a $):
// at most limit of them, and how many more there are. URL, browser, OS,
// library, user, release and level are among the event's facts (eventFacts).
func properties(ev event.Event, limit int) ([]views.Property, int) {
	var out []views.Property
	hidden := 0
	add := func(k, v string) {
		switch {
		case v == "":
		case len(out) == limit:
			hidden++
		default:
			out = append(out, views.Property{Key: k, Value: v})
		}
	}
	var props map[string]json.RawMessage
	if len(ev.Properties) > 0 && json.Unmarshal(ev.Properties, &props) == nil {
		keys := make([]string, 0, len(props))
		for k := range props {
			if !strings.HasPrefix(k, "$") && k != "token" && k != "distinct_id" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			var s string
			if json.Unmarshal(props[k], &s) != nil {
				s = string(props[k])
			}
			add(k, s)
		}
	}
	return out, hidden
}

func prettyJSON(raw []byte) string {
	var buf bytes.Buffer
	if json.Indent(&buf, raw, "", "  ") != nil {
		return string(raw)
	}
	return buf.String()
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
