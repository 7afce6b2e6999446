// Package bench holds stacklens's benchmark tools: a load generator that
// posts posthog-js exception events over HTTP, a no-op server that decodes
// the same bodies and stores nothing, a filler that writes a large realistic
// database quickly, and a timer for the issue pages. cmd/stacklens-bench is
// their command line; BENCHMARKS.md says how they are run.
package bench

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/stacklens/stacklens/event"
)

// recordedBundleURL is where posthog-js loaded the fixture bundle when its
// events were recorded; generated events point at wherever the bundle is served.
const recordedBundleURL = "http://127.0.0.1:8790/app.js"

// slot is a part of a generated event that changes from event to event.
type slot int

const (
	slotText slot = iota
	slotUUID
	slotType      // the first exception's type: one per issue
	slotUser      // distinct_id and $device_id
	slotBundle    // the minified file's URL in every frame
	slotTimestamp // RFC 3339, milliseconds
	slotToken
	slotRelease // $app_version, added to the recorded properties
)

// Template is a recorded posthog-js $exception event cut where generated
// events differ, so making one costs a few appends instead of a JSON encode.
type Template struct {
	parts []string
	slots []slot
	// Type is the recorded type of the first exception.
	Type string
}

// Event is what varies between generated events.
type Event struct {
	UUID      string
	Issue     int // events with the same Issue (and template) group into one issue
	User      int
	BundleURL string
	Timestamp time.Time
	Token     string
	Release   string
}

// Append writes the event's JSON to buf.
func (t *Template) Append(buf []byte, e Event) []byte {
	for i, s := range t.slots {
		switch s {
		case slotText:
			buf = append(buf, t.parts[i]...)
		case slotUUID:
			buf = append(buf, e.UUID...)
		case slotType:
			buf = append(buf, t.Type...)
			buf = append(buf, '_')
			buf = strconv.AppendInt(buf, int64(e.Issue), 10)
		case slotUser:
			buf = append(buf, "user-"...)
			buf = strconv.AppendInt(buf, int64(e.User), 10)
		case slotBundle:
			buf = append(buf, e.BundleURL...)
		case slotTimestamp:
			buf = e.Timestamp.UTC().AppendFormat(buf, "2006-01-02T15:04:05.000Z07:00")
		case slotToken:
			buf = append(buf, e.Token...)
		case slotRelease:
			buf = append(buf, e.Release...)
		}
	}
	return buf
}

// LoadTemplates reads posthog-js's recorded exceptions (one with a single
// exception and four frames, one with a cause chain) from the fixtures.
func LoadTemplates(fixtures string) ([]*Template, error) {
	path := filepath.Join(fixtures, "sdk", "posthog-js", "full-config.manual.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read recorded events: %w", err)
	}
	var rec struct {
		Requests []struct {
			Headers       map[string]string `json:"headers"`
			RawBodyBase64 string            `json:"rawBodyBase64"`
		} `json:"requests"`
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var out []*Template
	for _, r := range rec.Requests {
		if r.RawBodyBase64 == "" {
			continue
		}
		body, err := base64.StdEncoding.DecodeString(r.RawBodyBase64)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		raws, err := event.DecodePostHog(event.CaptureInput{Method: "POST", ContentType: r.Headers["content-type"], Body: body},
			event.DefaultLimits(), time.Now())
		if err != nil {
			continue // the recording's other requests (config, flags) are not captures
		}
		for _, ev := range raws {
			if ev.Name != "$exception" {
				continue
			}
			t, err := cutTemplate(ev.JSON)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", path, err)
			}
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("read %s: no $exception events", path)
	}
	return out, nil
}

// cutTemplate finds the changing parts of a recorded event.
func cutTemplate(raw []byte) (*Template, error) {
	var ev struct {
		UUID       string `json:"uuid"`
		Timestamp  string `json:"timestamp"`
		Properties struct {
			DistinctID string `json:"distinct_id"`
			Token      string `json:"token"`
			Exceptions []struct {
				Type string `json:"type"`
			} `json:"$exception_list"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, err
	}
	if ev.UUID == "" || ev.Timestamp == "" || ev.Properties.DistinctID == "" || len(ev.Properties.Exceptions) == 0 {
		return nil, fmt.Errorf("recorded event lacks uuid, timestamp, distinct_id or exceptions")
	}
	typ := ev.Properties.Exceptions[0].Type
	marks := []struct {
		text string
		slot slot
		all  bool
	}{
		{`"uuid":"` + ev.UUID + `"`, slotUUID, false},
		{`"timestamp":"` + ev.Timestamp + `"`, slotTimestamp, false},
		{`"type":"` + typ + `"`, slotType, false},
		{`"` + ev.Properties.DistinctID + `"`, slotUser, true},
		{recordedBundleURL, slotBundle, true},
		{`"token":"` + ev.Properties.Token + `"`, slotToken, false},
		{`"properties":{`, slotRelease, false},
	}
	t := &Template{parts: []string{string(raw)}, slots: []slot{slotText}, Type: typ}
	for _, m := range marks {
		// Keep the JSON around the value (quotes, key) as text, so only the value is a slot.
		prefix, value, suffix := splitMark(m.text, m.slot)
		var parts []string
		var slots []slot
		done := false
		for i, p := range t.parts {
			if t.slots[i] != slotText || (done && !m.all) {
				parts, slots = append(parts, p), append(slots, t.slots[i])
				continue
			}
			for {
				at := strings.Index(p, m.text)
				if at < 0 || (done && !m.all) {
					break
				}
				parts = append(parts, p[:at]+prefix, "")
				slots = append(slots, slotText, m.slot)
				p = suffix + p[at+len(m.text):]
				done = true
			}
			parts, slots = append(parts, p), append(slots, slotText)
		}
		if !done {
			return nil, fmt.Errorf("recorded event has no %s", strings.TrimSpace(value))
		}
		t.parts, t.slots = parts, slots
	}
	return t, nil
}

// splitMark splits a marker into the JSON before the value, the value and the JSON after it.
func splitMark(text string, s slot) (prefix, value, suffix string) {
	if s == slotBundle {
		return "", text, ""
	}
	if s == slotUser {
		return `"`, text, `"`
	}
	if s == slotRelease {
		return text + `"$app_version":"`, "", `",`
	}
	// `"key":"value"`
	at := strings.Index(text, `":"`) + 3
	return text[:at], text[at : len(text)-1], `"`
}

// UUID is a fixed-format uuid for event number n of run r: unique per (r, n).
func UUID(run uint32, n int64) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", run, n)
}
