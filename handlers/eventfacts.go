package handlers

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/stacklens/stacklens/event"
	"github.com/stacklens/stacklens/views"
)

// eventFacts is what the issue page shows of an event beside its stack:
// environment, user, contexts, tags, SDK and the breadcrumb timeline
// ending with the error. Environment and tags link to the issue list of
// the project filtered by them.
func eventFacts(projectID int64, ev event.Event) views.EventFacts {
	f := event.FactsOf(ev)
	v := views.EventFacts{Environment: f.Environment, Level: f.Level, Release: f.Release, URL: f.URL,
		SDK: strings.TrimSpace(f.SDKName + " " + f.SDKVersion), User: fieldsView(f.User), More: fieldsView(f.More)}
	list := func(key, value string) string {
		q := url.Values{"project": {strconv.FormatInt(projectID, 10)}, key: {value}}
		return "/issues?" + q.Encode()
	}
	if f.Environment != "" {
		v.EnvironmentURL = list("environment", f.Environment)
	}
	for _, t := range f.Tags {
		v.Tags = append(v.Tags, views.TagChip{Key: t.Key, Value: t.Value, URL: list("tag", t.Key+":"+t.Value)})
	}
	for _, c := range f.Contexts {
		v.Contexts = append(v.Contexts, views.ContextCard{Name: c.Name, Title: c.Title, Fields: fieldsView(c.Fields)})
	}
	for _, b := range ev.Breadcrumbs {
		row := views.BreadcrumbRow{Time: b.Timestamp, Category: firstNonEmpty(b.Category, b.Type), Level: b.Level, Message: b.Message}
		if len(b.Data) > 0 && string(b.Data) != "null" && string(b.Data) != "{}" {
			row.Data = string(b.Data)
		}
		v.Breadcrumbs = append(v.Breadcrumbs, row)
	}
	if len(v.Breadcrumbs) > 0 {
		crash := views.BreadcrumbRow{Time: ev.Timestamp, Category: "exception", Level: firstNonEmpty(ev.Level, "error"), Crash: true}
		if len(ev.Exceptions) > 0 {
			x := ev.Exceptions[0]
			crash.Message = x.Type
			if x.Value != "" {
				crash.Message += ": " + x.Value
			}
		}
		v.Breadcrumbs = append(v.Breadcrumbs, crash)
	}
	return v
}

func fieldsView(fields []event.Field) []views.Property {
	out := make([]views.Property, len(fields))
	for i, f := range fields {
		out[i] = views.Property{Key: f.Key, Value: f.Value}
	}
	return out
}
