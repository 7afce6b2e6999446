package symbols

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestFailureRoundTripsThroughJSON(t *testing.T) {
	in := &Failure{
		Code:    FailureNoSourcemapURL,
		Message: "http://x/app.js names no source map, and http://x/app.js.map answered 404 Not Found",
		Steps: []Step{
			{Action: StepFetchMinified, URL: "http://x/app.js", Status: 200, Found: FoundNothing, Bytes: 1234},
			{Action: StepFetchFallback, URL: "http://x/app.js.map", Status: 404, Bytes: 9, Error: "answered 404 Not Found"},
		},
	}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out Failure
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, &out) {
		t.Fatalf("round trip changed the failure:\n in %+v\nout %+v\njson %s", in, out, data)
	}
	if !strings.Contains(string(data), `"code":"no_sourcemap_url"`) {
		t.Fatalf("json %s should carry the code under \"code\"", data)
	}
}

func TestFailureIsAnError(t *testing.T) {
	var err error = Failf(FailureHTTPStatus, "GET %s answered %s", "http://x/app.js.map", "404 Not Found")
	var f *Failure
	if !errors.As(err, &f) || f.Code != FailureHTTPStatus {
		t.Fatalf("errors.As did not find the failure in %v", err)
	}
	if got := err.Error(); got != "http_status: GET http://x/app.js.map answered 404 Not Found" {
		t.Fatalf("Error() = %q", got)
	}
}

func TestEveryCodeHasAdvice(t *testing.T) {
	seen := map[string]bool{}
	for _, code := range FailureCodes() {
		if seen[code] {
			t.Errorf("code %q listed twice", code)
		}
		seen[code] = true
		if len(Advice(code)) < 40 {
			t.Errorf("Advice(%q) = %q, want a useful sentence", code, Advice(code))
		}
	}
	if len(seen) != 15 {
		t.Errorf("%d codes, want the 15 listed in docs/ARCHITECTURE.md", len(seen))
	}
	if Advice("no_such_code") != "" {
		t.Errorf("unknown code should have no advice")
	}
	if !strings.Contains(Advice(FailureNotUploaded), "stacklens sourcemap upload") {
		t.Errorf("not_uploaded advice should name the upload command")
	}
}

func TestEveryFailureCodeHasASummarySentence(t *testing.T) {
	for _, code := range FailureCodes() {
		if s := Summary(code); s == "" || !strings.HasSuffix(s, ".") {
			t.Errorf("Summary(%q) = %q, want a sentence", code, s)
		}
	}
}

func TestAdviceForSaysWhatTheStatusMeans(t *testing.T) {
	missing := &Failure{Code: FailureHTTPStatus, Steps: []Step{{Action: StepFetchMinified, Status: 200}, {Action: StepFetchMap, Status: 404}}}
	if got := AdviceFor(missing); strings.Contains(got, "refused") || !strings.Contains(got, "not on the server") {
		t.Errorf("advice for a 404: %q", got)
	}
	forbidden := &Failure{Code: FailureHTTPStatus, Steps: []Step{{Action: StepFetchMinified, Status: 403}}}
	if got := AdviceFor(forbidden); !strings.Contains(got, "refused") {
		t.Errorf("advice for a 403: %q", got)
	}
}
