package event

import (
	"bytes"
	"encoding/json"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Bounds on what one Sentry event keeps beside its exceptions, so an SDK
// that sends thousands of breadcrumbs or tags cannot bloat every stored
// event. Sentry's own server keeps 100 breadcrumbs.
const (
	maxBreadcrumbs = 100
	maxTags        = 200
	maxTagLength   = 200
)

// ParseSentry fills an Event from one Sentry event (the payload of an
// envelope's "event" item, or a /store/ body). It fails only when raw is
// not a JSON object; missing or odd fields are tolerated. Sentry lists
// exception.values cause first and the outer error last: they are turned
// around into the model's order (top error first). receivedAt is the time
// used when the event carries no usable timestamp.
func ParseSentry(raw json.RawMessage, receivedAt time.Time) (Event, error) {
	if !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		return Event{}, badRequest("the Sentry event is not a JSON object")
	}
	m, ok := decodeAny(raw).(map[string]any)
	if !ok {
		return Event{}, badRequest("the Sentry event is not valid JSON")
	}
	e := Event{
		UUID:        strings.TrimSpace(asString(m["event_id"])),
		Timestamp:   receivedAt.UTC(),
		Level:       strings.TrimSpace(asString(m["level"])),
		Release:     strings.TrimSpace(asString(m["release"])),
		Dist:        strings.TrimSpace(asString(m["dist"])),
		Environment: strings.TrimSpace(asString(m["environment"])),
		Platform:    strings.TrimSpace(asString(m["platform"])),
		ServerName:  strings.TrimSpace(asString(m["server_name"])),
		Transaction: strings.TrimSpace(asString(m["transaction"])),
		Tags:        sentryTags(m["tags"]),
		Contexts:    sentryContexts(m["contexts"]),
		Breadcrumbs: sentryBreadcrumbs(m["breadcrumbs"]),
	}
	if t, ok := parseTime(asString(m["timestamp"])); ok {
		e.Timestamp = t
	}
	if req, ok := m["request"].(map[string]any); ok {
		e.URL = strings.TrimSpace(asString(req["url"]))
	}
	if user, ok := m["user"].(map[string]any); ok && len(user) > 0 {
		e.User = user
		e.DistinctID = sentryUserID(user)
	}
	if sdk, ok := m["sdk"].(map[string]any); ok {
		e.SDK = &SDK{Name: asString(sdk["name"]), Version: asString(sdk["version"]), Integrations: asStrings(sdk["integrations"])}
		e.Lib, e.LibVersion = e.SDK.Name, e.SDK.Version
	}
	e.Browser = contextNameVersion(e.Contexts["browser"])
	e.OS = contextNameVersion(e.Contexts["os"])
	e.Fingerprint, e.FingerprintParts = sentryFingerprint(m["fingerprint"])

	framePlatform := sentryFramePlatform(e.Platform)
	for _, v := range sentryValues(m["exception"]) {
		if x, ok := v.(map[string]any); ok {
			e.Exceptions = append(e.Exceptions, exceptionFromWire(x))
		}
	}
	// Sentry: innermost cause first, outer error last. The model: top error first.
	for i, j := 0, len(e.Exceptions)-1; i < j; i, j = i+1, j-1 {
		e.Exceptions[i], e.Exceptions[j] = e.Exceptions[j], e.Exceptions[i]
	}
	if len(e.Exceptions) == 0 {
		e.Exceptions = []Exception{sentryMessageException(m)}
	}
	debugIDs := sentryDebugIDs(m["debug_meta"])
	for i := range e.Exceptions {
		frames := e.Exceptions[i].Frames
		for j := range frames {
			f := &frames[j]
			f.Platform = firstNonEmpty(sentryFramePlatform(f.Platform), framePlatform)
			if f.DebugID == "" {
				f.DebugID = firstNonEmpty(debugIDs[f.AbsPath], debugIDs[f.Filename])
			}
		}
	}
	if e.Platform == "node" {
		relativeNodePaths(e.Exceptions)
	}
	e.Normalize()
	return e, nil
}

// sentryValues reads Sentry's list interfaces, which come as {"values":[…]}
// or, from older SDKs, as the bare list (or a single object).
func sentryValues(v any) []any {
	switch v := v.(type) {
	case map[string]any:
		if values, ok := v["values"]; ok {
			return asList(values)
		}
		return []any{v}
	case []any:
		return v
	}
	return nil
}

// sentryMessageException stands in for the exception of an event that has
// none: captureMessage sends a message (or logentry), and may attach the
// current thread's stack.
func sentryMessageException(m map[string]any) Exception {
	msg := strings.TrimSpace(asString(m["message"]))
	if entry, ok := m["message"].(map[string]any); ok {
		msg = firstNonEmpty(asString(entry["formatted"]), asString(entry["message"]))
	}
	if entry, ok := m["logentry"].(map[string]any); ok && msg == "" {
		msg = firstNonEmpty(asString(entry["formatted"]), asString(entry["message"]))
	}
	x := Exception{Type: "Message", Value: msg}
	if msg == "" {
		x = Exception{Type: "Error", Value: noExceptionValue}
	}
	var threads []map[string]any
	for _, t := range sentryValues(m["threads"]) {
		if t, ok := t.(map[string]any); ok {
			threads = append(threads, t)
		}
	}
	// The crashed thread, else the current one, else the first.
	sort.SliceStable(threads, func(i, j int) bool { return threadRank(threads[i]) < threadRank(threads[j]) })
	for _, t := range threads {
		if st, ok := t["stacktrace"].(map[string]any); ok {
			if frames := framesFromWire(asList(st["frames"])); frames != nil {
				x.Frames = frames
				break
			}
		}
	}
	if st, ok := m["stacktrace"].(map[string]any); ok && x.Frames == nil {
		x.Frames = framesFromWire(asList(st["frames"]))
	}
	return x
}

func threadRank(t map[string]any) int {
	if crashed, _ := asBool(t["crashed"]); crashed {
		return 0
	}
	if current, _ := asBool(t["current"]); current {
		return 1
	}
	return 2
}

// sentryFramePlatform maps Sentry's platform names to the ones PostHog
// puts on frames, so the same code reported by either SDK family gets the
// same frames (and so the same fingerprint and symbolication).
func sentryFramePlatform(p string) string {
	switch strings.ToLower(strings.TrimSpace(p)) {
	case "":
		return ""
	case "javascript":
		return "web:javascript"
	case "node":
		return "node:javascript"
	}
	return p
}

// sentryDebugIDs maps the code_file of each source-map image in debug_meta
// (sentry-cli's injected debug ids) to its debug id.
func sentryDebugIDs(v any) map[string]string {
	meta, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	ids := map[string]string{}
	for _, img := range asList(meta["images"]) {
		img, ok := img.(map[string]any)
		if !ok || asString(img["type"]) != "sourcemap" {
			continue
		}
		file, id := strings.TrimSpace(asString(img["code_file"])), strings.TrimSpace(asString(img["debug_id"]))
		if file != "" && id != "" {
			ids[file] = strings.ToLower(id)
		}
	}
	return ids
}

// relativeNodePaths writes the absolute file paths of Node frames relative
// to the application's directory, as posthog-node does (relative to its
// working directory), so the same error reported through @sentry/node and
// posthog-node groups into one issue. The directory is found from a frame
// whose module name (which @sentry/node derives from the path below the
// application's directory) matches its path; without such a frame the
// paths stay absolute.
func relativeNodePaths(exceptions []Exception) {
	base := ""
	for _, x := range exceptions {
		for _, f := range x.Frames {
			if b, ok := nodeBaseDir(f.Filename, f.Module); ok {
				base = b
				break
			}
		}
		if base != "" {
			break
		}
	}
	if base == "" {
		return
	}
	for i := range exceptions {
		frames := exceptions[i].Frames
		for j := range frames {
			f := &frames[j]
			if strings.HasPrefix(f.Filename, "/") {
				f.Filename = relativePath(base, f.Filename)
			}
		}
	}
}

// nodeBaseDir finds the directory that @sentry/node's module name for
// filename was computed against: "/srv/app/lib/orders.js" with module
// "lib:orders" gives "/srv/app".
func nodeBaseDir(filename, module string) (string, bool) {
	if !strings.HasPrefix(filename, "/") || module == "" || strings.Contains(filename, "/node_modules/") {
		return "", false
	}
	dir, file := path.Split(filename)
	for _, ext := range []string{".js", ".mjs", ".cjs"} {
		if strings.HasSuffix(file, ext) {
			file = strings.TrimSuffix(file, ext)
			break
		}
	}
	dir = strings.TrimSuffix(dir, "/")
	// Candidate bases: every ancestor of the file's directory, nearest first.
	for base := dir; base != ""; base = path.Dir(base) {
		rel := strings.TrimPrefix(strings.TrimPrefix(dir, base), "/")
		want := file
		if rel != "" {
			want = strings.ReplaceAll(rel, "/", ".") + ":" + file
		}
		if want == module {
			return base, true
		}
		if base == "/" {
			break
		}
	}
	return "", false
}

// relativePath is Node's path.relative for two absolute POSIX paths.
func relativePath(base, target string) string {
	b := strings.Split(strings.Trim(path.Clean(base), "/"), "/")
	t := strings.Split(strings.Trim(path.Clean(target), "/"), "/")
	if len(b) == 1 && b[0] == "" {
		b = nil
	}
	i := 0
	for i < len(b) && i < len(t) && b[i] == t[i] {
		i++
	}
	parts := make([]string, 0, len(b)-i+len(t)-i)
	for range b[i:] {
		parts = append(parts, "..")
	}
	parts = append(parts, t[i:]...)
	return strings.Join(parts, "/")
}

// sentryUserID is who the event happened to, for counting affected users:
// the user's id, else email, else username, else IP address.
func sentryUserID(user map[string]any) string {
	for _, key := range []string{"id", "email", "username", "ip_address"} {
		if v := strings.TrimSpace(asString(user[key])); v != "" && v != "{{auto}}" {
			return v
		}
	}
	return ""
}

// sentryTags reads tags as an object or as a list of [key, value] pairs.
func sentryTags(v any) map[string]string {
	tags := map[string]string{}
	add := func(k, v string) {
		if k = strings.TrimSpace(k); k != "" && len(tags) < maxTags {
			tags[truncateText(k, maxTagLength)] = truncateText(v, maxTagLength)
		}
	}
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			add(k, asString(v[k]))
		}
	case []any:
		for _, pair := range v {
			if p := asList(pair); len(p) == 2 {
				add(asString(p[0]), asString(p[1]))
			}
		}
	}
	if len(tags) == 0 {
		return nil
	}
	return tags
}

func sentryContexts(v any) map[string]json.RawMessage {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		return nil
	}
	out := make(map[string]json.RawMessage, len(m))
	for k, c := range m {
		if raw, err := json.Marshal(c); err == nil {
			out[k] = raw
		}
	}
	return out
}

// contextNameVersion is "Chrome 120" from a browser or os context.
func contextNameVersion(raw json.RawMessage) string {
	c, ok := decodeAny(raw).(map[string]any)
	if !ok {
		return ""
	}
	return withVersion(strings.TrimSpace(asString(c["name"])), strings.TrimSpace(asString(c["version"])))
}

// sentryBreadcrumbs keeps the newest maxBreadcrumbs, oldest first.
func sentryBreadcrumbs(v any) []Breadcrumb {
	items := sentryValues(v)
	if len(items) > maxBreadcrumbs {
		items = items[len(items)-maxBreadcrumbs:]
	}
	var out []Breadcrumb
	for _, item := range items {
		b, ok := item.(map[string]any)
		if !ok {
			continue
		}
		crumb := Breadcrumb{
			Type:     asString(b["type"]),
			Category: asString(b["category"]),
			Level:    asString(b["level"]),
			Message:  asString(b["message"]),
		}
		if t, ok := parseTime(asString(b["timestamp"])); ok {
			crumb.Timestamp = t
		}
		if data, ok := b["data"]; ok && data != nil {
			if raw, err := json.Marshal(data); err == nil {
				crumb.Data = raw
			}
		}
		out = append(out, crumb)
	}
	return out
}

// defaultPlaceholder matches Sentry's {{ default }} in any spacing or case.
var defaultPlaceholder = regexp.MustCompile(`^\{\{\s*default\s*\}\}$`)

// sentryFingerprint reads a Sentry client fingerprint (a list of strings).
// Without a {{ default }} part it replaces the computed fingerprint, joined
// with ":" as PostHog's list form is, so both SDK families' overrides
// agree; with only {{ default }} parts it changes nothing; otherwise parts
// extend the computed fingerprint.
func sentryFingerprint(v any) (replace string, extend []string) {
	var parts []string
	switch v := v.(type) {
	case []any:
		parts = asStrings(v)
	case string:
		parts = []string{v}
	}
	hasDefault, onlyDefault := false, true
	for i, p := range parts {
		if defaultPlaceholder.MatchString(strings.TrimSpace(p)) {
			parts[i] = DefaultFingerprintPart
			hasDefault = true
		} else {
			onlyDefault = false
		}
	}
	switch {
	case len(parts) == 0 || onlyDefault:
		return "", nil
	case hasDefault:
		return "", parts
	}
	return strings.TrimSpace(strings.Join(parts, ":")), nil
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
