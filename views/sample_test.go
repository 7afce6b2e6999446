package views

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/stacklens/stacklens/highlight"
)

// Realistic view models for the page tests and screenshots: the checkout
// bug of the fixture bundle, as posthog-js reports it.

const ordersJS = `// Application code: a few functions calling each other that throw.
export class PaymentDeclinedError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'PaymentDeclinedError';
    this.code = 'card_declined';
  }
}

function parseAmount(raw) {
  if (typeof raw !== 'number') {
    throw new TypeError(` + "`amount must be a number, got ${typeof raw}`" + `);
  }
  return raw;
}

function validateOrder(order) {
  return parseAmount(order.amount);
}

function processOrder(order) {
  try {
    validateOrder(order);
  } catch (err) {
    throw new PaymentDeclinedError('payment declined for order ' + order.id, { cause: err });
  }
}

export function checkout(order) {
  return processOrder(order);
}

/* Deep call chains, to see
   how frames fold. */
function level3(tag) {
  throw new Error('boom ' + tag);
}
`

const appJS = `import posthog from 'posthog-js';
import { checkout, level1 } from './orders.js';

posthog.init('phc_testtoken_browser', {
  api_host: 'http://127.0.0.1:8000',
  capture_exceptions: true,
});

async function runCheckout() {
  const order = { id: 42, amount: '19.99' };
  return checkout(order);
}

document.querySelector('#checkout').addEventListener('click', () => {
  runCheckout().catch((err) => posthog.captureException(err));
});
`

// codeAround returns lines around line (1-based) of a highlighted file.
func codeAround(file string, src string, line, radius int) []CodeLine {
	html := highlight.Lines(file, src)
	var out []CodeLine
	for n := max(1, line-radius); n <= min(len(html), line+radius); n++ {
		out = append(out, CodeLine{Number: n, HTML: html[n-1], IsErrorLine: n == line})
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func sampleNav(active string) Nav {
	return Nav{ProjectID: 1, ProjectName: "Storefront", Projects: []ProjectOption{{ID: 1, Name: "Storefront"}, {ID: 2, Name: "Back office"}},
		UserEmail: "ada@example.com", CSRF: "csrf-token-123", Active: active}
}

func sampleIssue(now time.Time) IssueView {
	raw := map[string]any{
		"uuid":        "01968f3e-7c1a-7b52-9d1e-5a3f2c8b9e10",
		"event":       "$exception",
		"distinct_id": "user_8f2k1",
		"properties": map[string]any{
			"$current_url": "http://127.0.0.1:8790/checkout?step=</script><script>alert(1)</script>",
			"$exception_list": []map[string]any{{
				"type": "PaymentDeclinedError", "value": "payment declined for order 42",
				"mechanism": map[string]any{"handled": false, "type": "onunhandledrejection"},
			}},
		},
	}
	rawJSON, _ := json.MarshalIndent(raw, "", "  ")

	frames := []FrameView{
		{Function: "processOrder", File: "src/orders.js", Line: 25, Column: 11, InApp: true, Platform: "web:javascript",
			Code: codeAround("orders.js", ordersJS, 25, 7), Resolved: true, FromSourceMap: true,
			RawFunction: "Ng", RawFile: "http://127.0.0.1:8790/app.js", RawLine: 5, RawColumn: 38410},
		{Function: "checkout", File: "src/orders.js", Line: 30, Column: 10, InApp: true, Platform: "web:javascript",
			Code: codeAround("orders.js", ordersJS, 30, 7), Resolved: true, FromSourceMap: true,
			RawFunction: "Ig", RawFile: "http://127.0.0.1:8790/app.js", RawLine: 5, RawColumn: 38501},
		{Function: "runCheckout", File: "src/app.js", Line: 11, Column: 10, InApp: true, Platform: "web:javascript",
			Code: codeAround("app.js", appJS, 11, 7), Resolved: true, FromSourceMap: true,
			RawFunction: "Ag", RawFile: "http://127.0.0.1:8790/app.js", RawLine: 5, RawColumn: 38843},
		{Function: "Promise.then", File: "node_modules/posthog-js/dist/module.js", Line: 1, Column: 4410, Platform: "web:javascript", Resolved: true},
		{Function: "ExceptionObserver.wrap", File: "node_modules/posthog-js/dist/exception-autocapture.js", Line: 1, Column: 2113, Platform: "web:javascript", Resolved: true},
		{Function: "HTMLButtonElement.<anonymous>", File: "src/app.js", Line: 15, Column: 3, InApp: true, Platform: "web:javascript",
			Code: codeAround("app.js", appJS, 15, 7), Resolved: true, FromSourceMap: true,
			RawFunction: "HTMLButtonElement.Yo", RawFile: "http://127.0.0.1:8790/app.js", RawLine: 5, RawColumn: 39120},
		{Function: "Kt", File: "http://127.0.0.1:8790/vendor.js", Line: 1, Column: 9921, InApp: true, Platform: "web:javascript",
			Failure:    "No source map: vendor.js has no sourceMappingURL and vendor.js.map answered 404",
			FailureURL: "/settings/symbol-sets/3"},
	}
	cause := []FrameView{
		{Function: "parseAmount", File: "src/orders.js", Line: 12, Column: 11, InApp: true, Platform: "web:javascript",
			Code: codeAround("orders.js", ordersJS, 12, 7), Resolved: true, FromSourceMap: true,
			RawFunction: "Og", RawFile: "http://127.0.0.1:8790/app.js", RawLine: 5, RawColumn: 38322},
		{Function: "validateOrder", File: "src/orders.js", Line: 18, Column: 10, InApp: true, Platform: "web:javascript",
			Code: codeAround("orders.js", ordersJS, 18, 7), Resolved: true},
		{Function: "processOrder", File: "src/orders.js", Line: 23, Column: 5, InApp: true, Platform: "web:javascript",
			Code: codeAround("orders.js", ordersJS, 23, 7), Resolved: true},
	}
	return IssueView{
		ID: 17, Name: "PaymentDeclinedError", Description: "payment declined for order 42",
		Status: StatusActive, Occurrences: 1284,
		FirstSeen: now.Add(-26 * time.Hour), LastSeen: now.Add(-3 * time.Minute),
		StatusURL: "/issues/17/status",
		Event: EventView{
			UUID:      "01968f3e-7c1a-7b52-9d1e-5a3f2c8b9e10",
			Timestamp: now.Add(-3 * time.Minute),
			Exceptions: []ExceptionView{
				{Type: "PaymentDeclinedError", Value: "payment declined for order 42", Handled: ptr(false), Mechanism: "onunhandledrejection", Frames: frames},
				{Type: "TypeError", Value: "amount must be a number, got string", Handled: ptr(false), Frames: cause, IsCause: true},
			},
			Properties: []Property{
				{"URL", "http://127.0.0.1:8790/checkout?step=</script><script>alert(1)</script>"},
				{"Browser", "Chrome 156.0.7390.54"},
				{"OS", "Linux x86_64"},
				{"Library", "posthog-js 1.449.2"},
				{"Distinct ID", "user_8f2k1"},
				{"Release", "storefront@2026.05.1"},
				{"Session", "01968f3d-e1b0-7f9a-a6c3-93b1d0e5f7a2"},
			},
			RawJSON: string(rawJSON),
			Facts: EventFacts{
				Environment: "production", EnvironmentURL: "/issues?project=1&environment=production",
				Level: "error", Release: "storefront@2026.05.1", SDK: "sentry.javascript.browser 10.12.0",
				URL:  "https://shop.example/checkout?step=pay",
				User: []Property{{"ID", "user_8f2k1"}, {"Email", "ada@example.com"}, {"IP address", "203.0.113.9"}},
				Tags: []TagChip{{"region", "eu-west-1", "/issues?project=1&tag=region%3Aeu-west-1"}, {"flow", "checkout", "/issues?project=1&tag=flow%3Acheckout"}},
				Contexts: []ContextCard{
					{"browser", "Browser", []Property{{"name", "Chrome"}, {"version", "156.0.7390.54"}}},
					{"os", "Operating system", []Property{{"name", "Linux"}, {"version", "6.8"}}},
					{"device", "Device", []Property{{"family", "Desktop"}, {"screen_resolution", "1920x1080"}}},
				},
				Breadcrumbs: []BreadcrumbRow{
					{Time: now.Add(-3*time.Minute - 4*time.Second), Category: "navigation", Level: "info", Message: "/cart → /checkout"},
					{Time: now.Add(-3*time.Minute - 2*time.Second), Category: "ui.click", Message: "button#pay"},
					{Time: now.Add(-3*time.Minute - time.Second), Category: "fetch", Level: "warning", Data: `{"method":"POST","status_code":502,"url":"https://payments.example/charge"}`},
					{Time: now.Add(-3 * time.Minute), Category: "exception", Level: "error", Message: "PaymentDeclinedError: payment declined for order 42", Crash: true},
				},
			},
		},
	}
}

func sampleIssues(now time.Time) IssuesView {
	rows := []IssueRow{
		{ID: 17, Name: "PaymentDeclinedError", Description: "payment declined for order 42", Status: StatusActive, Occurrences: 1284, FirstSeen: now.Add(-26 * time.Hour), LastSeen: now.Add(-3 * time.Minute)},
		{ID: 16, Name: "TypeError", Description: "Cannot read properties of undefined (reading 'map')", Status: StatusActive, Occurrences: 311, FirstSeen: now.Add(-6 * 24 * time.Hour), LastSeen: now.Add(-14 * time.Minute)},
		{ID: 12, Name: "Error", Description: "boom manual", Status: StatusActive, Occurrences: 57, FirstSeen: now.Add(-9 * 24 * time.Hour), LastSeen: now.Add(-2 * time.Hour)},
		{ID: 9, Name: "UnhandledRejection", Description: "Non-Error promise rejection captured with value: " + strings.Repeat("timeout ", 30), Status: StatusResolved, Occurrences: 8, FirstSeen: now.Add(-40 * 24 * time.Hour), LastSeen: now.Add(-3 * 24 * time.Hour)},
		{ID: 4, Name: "ChunkLoadError", Description: "Loading chunk 284 failed. (error: http://127.0.0.1:8790/chunks/284.js)", Status: StatusSuppressed, Occurrences: 2, FirstSeen: now.Add(-70 * 24 * time.Hour), LastSeen: now.Add(-65 * 24 * time.Hour)},
		{ID: 3, Name: "RangeError", Description: "Maximum call stack size exceeded", Status: StatusActive, Occurrences: 1, FirstSeen: now.Add(-400 * 24 * time.Hour), LastSeen: now.Add(-30 * time.Second)},
	}
	for i := range rows {
		rows[i].URL = "/issues/" + itoa(rows[i].ID)
	}
	return IssuesView{Status: StatusAll, Rows: rows, Total: 31, NextURL: "/issues?status=all&page=2"}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
