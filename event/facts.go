package event

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
)

// Facts are what an event says about where and to whom it happened, in one
// shape for Sentry and PostHog events, so the issue page shows both the same
// way: Sentry's user, contexts, tags and sdk; for a PostHog event its
// distinct_id, $browser, $os, $device_type, $lib and the like.
type Facts struct {
	Environment string
	Level       string
	Release     string
	URL         string
	// SDKName and SDKVersion name the client library (Sentry's sdk, PostHog's $lib).
	SDKName, SDKVersion string
	// User is who it happened to: id, email, username and IP address first.
	User []Field
	// Contexts are the browser, OS, runtime and device (in that order),
	// then any other context the client sent, by name.
	Contexts []Context
	// Tags are Sentry's tags, by key.
	Tags []Field
	// More are other facts of the event: server, transaction, session, dist.
	More []Field
}

// Field is one named value of Facts; Value is text (objects as compact JSON).
type Field struct {
	Key, Value string
}

// Context is one of an event's contexts: Name as the client keyed it
// ("os"), Title as a page says it ("Operating system").
type Context struct {
	Name, Title string
	Fields      []Field
}

// Bounds on what Facts lists of one context-rich event: the rest stays in
// the event's raw JSON.
const (
	maxFactContexts      = 20
	maxFactContextFields = 40
	maxFactUserFields    = 20
)

// contextOrder is the order of the contexts people look for first.
var contextOrder = []string{"browser", "os", "runtime", "device", "app"}

var contextTitles = map[string]string{
	"browser": "Browser", "os": "Operating system", "runtime": "Runtime", "device": "Device", "app": "App",
	"culture": "Culture", "cloud_resource": "Cloud resource", "trace": "Trace", "gpu": "GPU", "response": "Response",
}

var userLabels = map[string]string{"id": "ID", "email": "Email", "username": "Username", "ip_address": "IP address"}

// FactsOf gathers an event's facts. A Sentry event has them in its own
// fields; a PostHog event in its properties.
func FactsOf(e Event) Facts {
	f := Facts{Environment: e.Environment, Level: e.Level, Release: e.Release, URL: e.URL}
	if e.SDK != nil {
		f.SDKName, f.SDKVersion = e.SDK.Name, e.SDK.Version
	} else {
		f.SDKName, f.SDKVersion = e.Lib, e.LibVersion
	}
	f.User = userFields(e)
	f.Contexts = sentryFactContexts(e.Contexts)
	if len(e.Contexts) == 0 {
		f.Contexts = posthogContexts(e.Properties)
	}
	keys := make([]string, 0, len(e.Tags))
	for k := range e.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f.Tags = append(f.Tags, Field{k, e.Tags[k]})
	}
	for _, m := range []Field{{"Server", e.ServerName}, {"Transaction", e.Transaction}, {"Dist", e.Dist}, {"Session ID", e.SessionID}} {
		if m.Value != "" {
			f.More = append(f.More, m)
		}
	}
	return f
}

// userFields lists Sentry's user (id, email, username, IP address, then
// the rest), or a PostHog event's distinct_id, $ip and the email, name or
// username its $set gives the person.
func userFields(e Event) []Field {
	var out []Field
	add := func(k, v string) {
		if v = strings.TrimSpace(v); v != "" && v != "{{auto}}" && len(out) < maxFactUserFields {
			out = append(out, Field{k, v})
		}
	}
	if e.User != nil {
		for _, k := range []string{"id", "email", "username", "ip_address"} {
			add(userLabels[k], factText(e.User[k]))
		}
		rest := make([]string, 0, len(e.User))
		for k := range e.User {
			if _, known := userLabels[k]; !known {
				rest = append(rest, k)
			}
		}
		sort.Strings(rest)
		for _, k := range rest {
			add(k, factText(e.User[k]))
		}
		return out
	}
	props, _ := decodeAny(e.Properties).(map[string]any)
	set, _ := props["$set"].(map[string]any)
	add("ID", e.DistinctID)
	add("Email", factText(set["email"]))
	add("Username", firstNonEmpty(factText(set["username"]), factText(set["name"])))
	add("IP address", factText(props["$ip"]))
	return out
}

// sentryFactContexts lists a Sentry event's contexts, the known ones first.
func sentryFactContexts(contexts map[string]json.RawMessage) []Context {
	names := make([]string, 0, len(contexts))
	for k := range contexts {
		names = append(names, k)
	}
	rank := func(name string) int {
		for i, k := range contextOrder {
			if k == name {
				return i
			}
		}
		return len(contextOrder)
	}
	sort.Slice(names, func(i, j int) bool {
		if ri, rj := rank(names[i]), rank(names[j]); ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
	var out []Context
	for _, name := range names {
		if len(out) == maxFactContexts {
			break
		}
		m, ok := decodeAny(contexts[name]).(map[string]any)
		if !ok {
			continue
		}
		c := Context{Name: name, Title: contextTitle(name)}
		keys := make([]string, 0, len(m))
		for k := range m {
			if k != "type" {
				keys = append(keys, k)
			}
		}
		sort.Slice(keys, func(i, j int) bool {
			if ri, rj := fieldRank(keys[i]), fieldRank(keys[j]); ri != rj {
				return ri < rj
			}
			return keys[i] < keys[j]
		})
		for _, k := range keys {
			if v := factText(m[k]); v != "" && len(c.Fields) < maxFactContextFields {
				c.Fields = append(c.Fields, Field{k, v})
			}
		}
		if len(c.Fields) > 0 {
			out = append(out, c)
		}
	}
	return out
}

// fieldRank puts a context's name and version before its other fields.
func fieldRank(key string) int {
	switch key {
	case "name":
		return 0
	case "version":
		return 1
	}
	return 2
}

func contextTitle(name string) string {
	if t, ok := contextTitles[name]; ok {
		return t
	}
	return name
}

// posthogContexts reads the browser, OS, runtime and device a PostHog SDK
// describes in $-properties into the contexts Sentry would send.
func posthogContexts(properties json.RawMessage) []Context {
	props, _ := decodeAny(properties).(map[string]any)
	if props == nil {
		return nil
	}
	text := func(k string) string { return factText(props[k]) }
	screen := ""
	if w, h := text("$screen_width"), text("$screen_height"); w != "" && h != "" {
		screen = w + "×" + h
	}
	var out []Context
	for _, c := range []struct {
		name   string
		fields []Field
	}{
		{"browser", []Field{{"name", text("$browser")}, {"version", text("$browser_version")}, {"language", text("$browser_language")}}},
		{"os", []Field{{"name", text("$os")}, {"version", text("$os_version")}}},
		{"runtime", []Field{{"name", text("$python_runtime")}, {"version", text("$python_version")}}},
		{"device", []Field{{"type", text("$device_type")}, {"model", text("$device")}, {"manufacturer", text("$device_manufacturer")},
			{"screen", screen}}},
	} {
		ctx := Context{Name: c.name, Title: contextTitle(c.name)}
		for _, f := range c.fields {
			if f.Value != "" {
				ctx.Fields = append(ctx.Fields, f)
			}
		}
		if len(ctx.Fields) > 0 {
			out = append(out, ctx)
		}
	}
	return out
}

// factText is a value of a user or context field as text: strings as
// they are, numbers and booleans written out, objects and lists as compact
// JSON, null as nothing.
func factText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number, bool:
		return asString(v)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) != nil {
		return ""
	}
	return strings.TrimSuffix(buf.String(), "\n")
}
