package event

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"

	"github.com/stacklens/stacklens/internal/testkit"
)

// sentryRecording is one file of fixtures/sdk/sentry-*: what a real Sentry SDK sent.
type sentryRecording struct {
	Requests []struct {
		Method        string            `json:"method"`
		URL           string            `json:"url"`
		Headers       map[string]string `json:"headers"`
		RawBodyBase64 string            `json:"rawBodyBase64"`
	} `json:"requests"`
}

func loadSentryRecording(t *testing.T, name string) sentryRecording {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testkit.Fixtures(t), "sdk", name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	var rec sentryRecording
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatalf("decode fixture %s: %v", name, err)
	}
	return rec
}

// decodeRecorded decodes every envelope of a recording as the handler would.
func decodeRecorded(t *testing.T, rec sentryRecording) (events []Event, ignored map[string]int) {
	t.Helper()
	ignored = map[string]int{}
	for _, r := range rec.Requests {
		if !strings.Contains(r.URL, "/envelope/") {
			continue
		}
		body, err := base64.StdEncoding.DecodeString(r.RawBodyBase64)
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(r.URL)
		if err != nil {
			t.Fatal(err)
		}
		req, err := DecodeSentry(SentryInput{Query: u.Query(), ContentEncoding: r.Headers["content-encoding"], Body: body}, Limits{})
		if err != nil {
			t.Fatalf("%s: %v", r.URL, err)
		}
		if req.PublicKey != "publickey" {
			t.Errorf("public key %q, want publickey", req.PublicKey)
		}
		for k, n := range req.Ignored {
			ignored[k] += n
		}
		for _, se := range req.Events {
			ev, err := ParseSentry(se.JSON, time.Now())
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if ev.UUID != se.ID || len(se.ID) != 32 {
				t.Errorf("event id %q, decoder said %q", ev.UUID, se.ID)
			}
			events = append(events, ev)
		}
	}
	return events, ignored
}

func TestSentryNodeRecording(t *testing.T) {
	events, ignored := decodeRecorded(t, loadSentryRecording(t, "sentry-node/manual.json"))
	if len(events) != 2 || ignored["session"] != 1 {
		t.Fatalf("%d events, ignored %v; want 2 events and 1 session", len(events), ignored)
	}
	boom, chain := events[0], events[1]
	if boom.Exceptions[0].Type != "Error" || boom.Exceptions[0].Value != "boom" {
		t.Errorf("first event: %+v", boom.Exceptions[0])
	}
	// Sentry lists the cause first; the model lists the outer error first.
	if len(chain.Exceptions) != 2 || chain.Exceptions[0].Type != "PaymentDeclinedError" || chain.Exceptions[1].Type != "TypeError" {
		t.Fatalf("cause chain in model order: %+v", chain.Exceptions)
	}
	frames := boom.Exceptions[0].Frames
	crash := frames[len(frames)-1]
	if crash.Function != "level3" || crash.Lineno != 36 || crash.Colno != 9 || !crash.InApp ||
		crash.ContextLine != "  throw new Error('boom');" || len(crash.PreContext) != 5 {
		t.Errorf("crash frame (last, as sent): %+v", crash)
	}
	// Paths as posthog-node writes them: relative to the application's directory.
	if crash.Filename != "node-app/orders.js" || crash.Platform != "node:javascript" {
		t.Errorf("crash frame file %q platform %q, want node-app/orders.js node:javascript", crash.Filename, crash.Platform)
	}
	if frames[0].Filename != "node:internal/modules/run_main" {
		t.Errorf("node internals keep their name: %q", frames[0].Filename)
	}
	if boom.Release != "probe@1.0.0" || boom.Environment != "test" || boom.Platform != "node" ||
		boom.Tags["case"] != "simple" || boom.SDK == nil || boom.SDK.Name != "sentry.javascript.node" || boom.Lib != "sentry.javascript.node" {
		t.Errorf("event facts: release %q env %q platform %q tags %v sdk %+v", boom.Release, boom.Environment, boom.Platform, boom.Tags, boom.SDK)
	}
	if boom.Contexts["runtime"] == nil || boom.Timestamp.Year() != 2026 {
		t.Errorf("contexts %v timestamp %v", boom.Contexts, boom.Timestamp)
	}
}

func TestSentryBrowserRecording(t *testing.T) {
	events, ignored := decodeRecorded(t, loadSentryRecording(t, "sentry-browser/plain.manual.json"))
	if len(events) != 2 || ignored["session"] < 1 {
		t.Fatalf("%d events, ignored %v", len(events), ignored)
	}
	ev := events[1]
	if ev.Exceptions[0].Type != "PaymentDeclinedError" || ev.Exceptions[1].Type != "TypeError" {
		t.Errorf("order: %s, %s", ev.Exceptions[0].Type, ev.Exceptions[1].Type)
	}
	f := ev.Exceptions[0].Frames[0]
	if f.Platform != "web:javascript" || f.Filename != "http://127.0.0.1:8790/app.js" || f.Lineno != 15 || f.Colno != 14548 {
		t.Errorf("frame: %+v", f)
	}
	if ev.URL != "http://127.0.0.1:8790/?recorder_port=8787&debug=1" || len(ev.Breadcrumbs) != 2 ||
		ev.Breadcrumbs[0].Category != "ui.click" || ev.Breadcrumbs[0].Message != "body > button#manual" || ev.Breadcrumbs[0].Timestamp.IsZero() {
		t.Errorf("url %q breadcrumbs %+v", ev.URL, ev.Breadcrumbs)
	}
}

// envelopeOf builds an envelope from lines.
func envelopeOf(lines ...string) []byte { return []byte(strings.Join(lines, "\n")) }

const sampleEvent = `{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","platform":"javascript","exception":{"values":[{"type":"Error","value":"x"}]}}`

func TestEnvelopeLengths(t *testing.T) {
	attachment := "binary\nwith\nnewlines"
	for name, body := range map[string][]byte{
		"no lengths":       envelopeOf(`{"dsn":"http://k@h/1"}`, `{"type":"event"}`, sampleEvent),
		"trailing \\n":     envelopeOf(`{}`, `{"type":"event"}`, sampleEvent, ""),
		"lengths":          envelopeOf(`{}`, `{"type":"attachment","length":`+strconv.Itoa(len(attachment))+`}`, attachment, `{"type":"event","length":`+strconv.Itoa(len(sampleEvent))+`}`, sampleEvent),
		"length, no \\n":   append(envelopeOf(`{}`, `{"type":"event","length":`+strconv.Itoa(len(sampleEvent))+`}`, ""), sampleEvent...),
		"crlf":             []byte("{}\r\n{\"type\":\"event\"}\r\n" + sampleEvent + "\r\n"),
		"ignored first":    envelopeOf(`{}`, `{"type":"session"}`, `{"sid":"x"}`, `{"type":"client_report"}`, `{}`, `{"type":"event"}`, sampleEvent),
		"zero length":      envelopeOf(`{}`, `{"type":"replay_event","length":0}`, ``, `{"type":"event"}`, sampleEvent),
		"unknown new item": envelopeOf(`{}`, `{"type":"log","content_type":"application/vnd.sentry.items.log+json","item_count":1}`, `{"items":[]}`, `{"type":"event"}`, sampleEvent),
	} {
		t.Run(name, func(t *testing.T) {
			req, err := DecodeSentry(SentryInput{Body: body}, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if len(req.Events) != 1 || req.Events[0].ID != "9ec79c33ec9942ab8353589fcb2e04dc" || string(req.Events[0].JSON) != sampleEvent {
				t.Fatalf("events %+v", req.Events)
			}
		})
	}
}

func TestEnvelopeBad(t *testing.T) {
	big := `{"type":"event"}` + "\n" + `{"exception":{"values":[{"type":"E","value":"` + strings.Repeat("x", 3000) + `"}]}}`
	for name, c := range map[string]struct {
		body   []byte
		status int
		msg    string
	}{
		"empty":          {nil, 400, "empty"},
		"not json":       {[]byte("hello\n"), 400, "first line"},
		"bad item head":  {envelopeOf(`{}`, `nope`, `{}`), 400, "item 1"},
		"no type":        {envelopeOf(`{}`, `{"length":2}`, `{}`), 400, "no type"},
		"length too big": {envelopeOf(`{}`, `{"type":"event","length":9999}`, sampleEvent), 400, "9999 bytes"},
		"bad length":     {envelopeOf(`{}`, `{"type":"event","length":"x"}`, sampleEvent), 400, "not a byte count"},
		"event not json": {envelopeOf(`{}`, `{"type":"event"}`, `[1,2]`), 400, "not a JSON object"},
		"two events":     {envelopeOf(`{}`, `{"type":"event"}`, sampleEvent, `{"type":"event"}`, sampleEvent), 400, "more than one event"},
		"bad event id":   {envelopeOf(`{}`, `{"type":"event"}`, `{"event_id":"nope"}`), 400, "not a UUID"},
		"oversized item": {[]byte("{}\n" + big), 413, "at most 2000 bytes"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeSentry(SentryInput{Body: c.body}, Limits{MaxEvent: 2000})
			e, ok := err.(*Error)
			if !ok || e.Status != c.status || !strings.Contains(e.Msg, c.msg) {
				t.Fatalf("err %v, want %d containing %q", err, c.status, c.msg)
			}
		})
	}
}

func TestSentryBodyEncodings(t *testing.T) {
	plain := envelopeOf(`{}`, `{"type":"event"}`, sampleEvent)
	var gz, zl bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write(plain)
	gw.Close()
	zw := zlib.NewWriter(&zl)
	zw.Write(plain)
	zw.Close()
	var br bytes.Buffer
	bw := brotli.NewWriter(&br)
	bw.Write(plain)
	bw.Close()
	for name, in := range map[string]SentryInput{
		"gzip":            {ContentEncoding: "gzip", Body: gz.Bytes()},
		"gzip unlabelled": {Body: gz.Bytes()},
		"deflate":         {ContentEncoding: "deflate", Body: zl.Bytes()},
		"br":              {ContentEncoding: "br", Body: br.Bytes()},
		"identity":        {ContentEncoding: "identity", Body: plain},
	} {
		t.Run(name, func(t *testing.T) {
			req, err := DecodeSentry(in, Limits{})
			if err != nil || len(req.Events) != 1 {
				t.Fatalf("%v %+v", err, req)
			}
		})
	}
	if _, err := DecodeSentry(SentryInput{ContentEncoding: "zstd", Body: plain}, Limits{}); err == nil || !strings.Contains(err.Error(), "zstd") {
		t.Errorf("zstd: %v", err)
	}
	if _, err := DecodeSentry(SentryInput{ContentEncoding: "br", Body: br.Bytes()}, Limits{MaxDecompressed: 20}); err == nil || err.(*Error).Status != 413 {
		t.Errorf("brotli over the cap: %v", err)
	}
	if _, err := DecodeSentry(SentryInput{ContentEncoding: "br", Body: []byte("not brotli")}, Limits{}); err == nil || err.(*Error).Status != 400 {
		t.Errorf("corrupt brotli: %v", err)
	}
	// One layer of compression, as for PostHog bodies.
	var twice bytes.Buffer
	tw := gzip.NewWriter(&twice)
	tw.Write(gz.Bytes())
	tw.Close()
	if _, err := DecodeSentry(SentryInput{ContentEncoding: "gzip, gzip", Body: twice.Bytes()}, Limits{}); err == nil || err.(*Error).Status != 400 ||
		!strings.Contains(err.Error(), "compressed more than once") {
		t.Errorf("Content-Encoding gzip, gzip: %v", err)
	}
	if _, err := DecodeSentry(SentryInput{Body: testkit.GzipQuine()}, Limits{}); err == nil || err.(*Error).Status != 400 {
		t.Errorf("gzip quine: %v", err)
	}
}

func TestSentryStoreBodies(t *testing.T) {
	var zl bytes.Buffer
	zw := zlib.NewWriter(&zl)
	zw.Write([]byte(sampleEvent))
	zw.Close()
	for name, body := range map[string]string{
		"json":        sampleEvent,
		"base64 zlib": base64.StdEncoding.EncodeToString(zl.Bytes()),
	} {
		req, err := DecodeSentry(SentryInput{Endpoint: SentryStore, Body: []byte(body)}, Limits{})
		if err != nil || len(req.Events) != 1 || req.Events[0].ID != "9ec79c33ec9942ab8353589fcb2e04dc" {
			t.Errorf("%s: %v %+v", name, err, req)
		}
	}
	if _, err := DecodeSentry(SentryInput{Endpoint: SentryStore, Body: []byte("%%%")}, Limits{}); err == nil {
		t.Error("junk /store/ body accepted")
	}
}

func TestSentryKeySources(t *testing.T) {
	for want, in := range map[string]SentryInput{
		"q":   {Query: url.Values{"sentry_key": {"q"}}},
		"x":   {XSentryAuth: "Sentry sentry_version=7, sentry_client=sentry.go/0.30.0, sentry_key=x, sentry_secret=s"},
		"a":   {Authorization: "Sentry sentry_key=a,sentry_version=7"},
		"dsn": {Authorization: "DSN https://dsn@example.com/3"},
	} {
		if got := SentryKey(in); got != want {
			t.Errorf("SentryKey(%+v) = %q, want %q", in, got, want)
		}
	}
	req, err := DecodeSentry(SentryInput{Body: envelopeOf(`{"dsn":"http://fromheader@127.0.0.1:8000/7"}`)}, Limits{})
	if err != nil || req.PublicKey != "fromheader" || req.ProjectID != "7" {
		t.Errorf("envelope dsn: %v %+v", err, req)
	}
}

func TestWithSentryEventID(t *testing.T) {
	raw := json.RawMessage(`{"message":"hi","event_id":null}`)
	out, err := WithSentryEventID(raw, "0123456789abcdef0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	ev, _ := ParseSentry(out, time.Now())
	if ev.UUID != "0123456789abcdef0123456789abcdef" || ev.Exceptions[0].Value != "hi" || ev.Exceptions[0].Type != "Message" {
		t.Errorf("%s → %+v", out, ev)
	}
	same := json.RawMessage(sampleEvent)
	if out, _ := WithSentryEventID(same, "9ec79c33ec9942ab8353589fcb2e04dc"); &out[0] != &same[0] {
		t.Error("an event that already says its id was re-encoded")
	}
}

func TestSentryGroupsWithPostHog(t *testing.T) {
	// The same error, as posthog-node and @sentry/node describe it, run from /srv/shop.
	ph := `{"properties":{"$exception_list":[{"type":"Error","value":"boom","stacktrace":{"type":"raw","frames":[
		{"filename":"node:internal/modules/cjs/loader","module":"loader","function":"Module._load","lineno":1091,"colno":12,"in_app":false,"platform":"node:javascript"},
		{"filename":"app.js","module":"app","function":"main","lineno":14,"colno":5,"in_app":true,"platform":"node:javascript"},
		{"filename":"lib/orders.js","module":"lib:orders","function":"level3","lineno":36,"colno":9,"in_app":true,"platform":"node:javascript"}]}}]}}`
	se := `{"platform":"node","exception":{"values":[{"type":"Error","value":"boom","stacktrace":{"frames":[
		{"filename":"node:internal/modules/cjs/loader","module":"loader","function":"Module._load","lineno":1091,"colno":12,"in_app":false},
		{"filename":"/srv/shop/app.js","module":"app","function":"main","lineno":14,"colno":5,"in_app":true},
		{"filename":"/srv/shop/lib/orders.js","module":"lib:orders","function":"level3","lineno":36,"colno":9,"in_app":true}]}}]}}`
	a, _ := ParsePostHog(json.RawMessage(ph), time.Now())
	b, err := ParseSentry(json.RawMessage(se), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if Fingerprint(a) != Fingerprint(b) {
		t.Errorf("posthog-node and @sentry/node frames group apart:\n%+v\n%+v", a.Exceptions[0].Frames, b.Exceptions[0].Frames)
	}
	// Browser: platform javascript is web:javascript.
	phb := `{"properties":{"$exception_list":[{"type":"Error","value":"x","stacktrace":{"type":"raw","frames":[{"platform":"web:javascript","filename":"https://a/app.js","function":"Og","lineno":5,"colno":3,"in_app":true}]}}]}}`
	seb := `{"platform":"javascript","exception":{"values":[{"type":"Error","value":"x","stacktrace":{"frames":[{"filename":"https://a/app.js","function":"Og","lineno":5,"colno":3,"in_app":true}]}}]}}`
	c, _ := ParsePostHog(json.RawMessage(phb), time.Now())
	d, _ := ParseSentry(json.RawMessage(seb), time.Now())
	if Fingerprint(c) != Fingerprint(d) {
		t.Error("posthog-js and @sentry/browser frames group apart")
	}
}

func TestSentryClientFingerprint(t *testing.T) {
	parse := func(fp string, value string) Event {
		ev, err := ParseSentry(json.RawMessage(`{"fingerprint":`+fp+`,"exception":{"values":[{"type":"E","value":"`+value+`"}]}}`), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	def := Fingerprint(parse(`null`, "a"))
	if got := Fingerprint(parse(`["{{ default }}"]`, "a")); got != def {
		t.Error("{{ default }} alone changed the grouping")
	}
	if got := Fingerprint(parse(`["{{default}}"]`, "a")); got != def {
		t.Error("{{default}} without spaces is not the placeholder")
	}
	ext1, ext2 := Fingerprint(parse(`["{{ default }}","tenant-1"]`, "a")), Fingerprint(parse(`["{{ default }}","tenant-2"]`, "a"))
	if ext1 == def || ext1 == ext2 {
		t.Error("{{ default }} with another part must split the default group by that part")
	}
	if Fingerprint(parse(`["{{ default }}","tenant-1"]`, "b")) == ext1 {
		t.Error("the {{ default }} part must still depend on the error")
	}
	// Without the placeholder the fingerprint replaces the default, like PostHog's list form.
	s := Fingerprint(parse(`["checkout","db"]`, "a"))
	if s != Fingerprint(parse(`["checkout","db"]`, "other")) {
		t.Error("a full client fingerprint must ignore the error")
	}
	ph, _ := ParsePostHog(json.RawMessage(`{"properties":{"$exception_fingerprint":["checkout","db"]}}`), time.Now())
	if Fingerprint(ph) != s {
		t.Error("the same client fingerprint from PostHog and Sentry groups apart")
	}
}

func TestSentryDebugMeta(t *testing.T) {
	raw := `{"platform":"javascript","exception":{"values":[{"type":"E","stacktrace":{"frames":[
		{"filename":"https://a/app.js","abs_path":"https://a/app.js","function":"f","lineno":1,"colno":2},
		{"filename":"https://a/other.js","function":"g","lineno":1,"colno":2}]}}]},
		"debug_meta":{"images":[{"type":"sourcemap","code_file":"https://a/app.js","debug_id":"C0A9B3E2-4F34-4F0A-9D4B-1234567890AB"},{"type":"macho","code_file":"https://a/other.js","debug_id":"x"}]}}`
	ev, err := ParseSentry(json.RawMessage(raw), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	frames := ev.Exceptions[0].Frames
	if frames[0].DebugID != "c0a9b3e2-4f34-4f0a-9d4b-1234567890ab" || frames[1].DebugID != "" {
		t.Errorf("debug ids: %q %q", frames[0].DebugID, frames[1].DebugID)
	}
}

func TestRelativePath(t *testing.T) {
	for _, c := range [][3]string{
		{"/srv/shop", "/srv/shop/a/b.js", "a/b.js"},
		{"/srv/shop", "/usr/lib/x.js", "../../usr/lib/x.js"},
		{"/", "/x.js", "x.js"},
	} {
		if got := relativePath(c[0], c[1]); got != c[2] {
			t.Errorf("relativePath(%q, %q) = %q, want %q", c[0], c[1], got, c[2])
		}
	}
	if base, ok := nodeBaseDir("/srv/shop/a/b/c.js", "a.b:c"); !ok || base != "/srv/shop" {
		t.Errorf("nodeBaseDir: %q %v", base, ok)
	}
}

func TestSentryDSN(t *testing.T) {
	for _, c := range [][2]string{
		{"http://127.0.0.1:8000", "http://phc_K@127.0.0.1:8000/3"},
		{"https://errors.example.com/", "https://phc_K@errors.example.com/3"},
		{"https://example.com/stacklens", "https://phc_K@example.com/stacklens/3"},
	} {
		if got := SentryDSN(c[0], "phc_K", 3); got != c[1] {
			t.Errorf("SentryDSN(%q) = %q, want %q", c[0], got, c[1])
		}
	}
	key, project := dsnKey(SentryDSN("http://h:1", "phc_K", 3))
	if key != "phc_K" || project != "3" {
		t.Errorf("round trip: %q %q", key, project)
	}
}
