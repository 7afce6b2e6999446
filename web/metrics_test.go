package web

import "testing"

func TestRouteGroup(t *testing.T) {
	for route, want := range map[string]string{
		"/batch/": "capture", "/e": "capture", "/i/v1/analytics/events": "capture",
		"/api/:project_id/envelope/": "sentry", "/api/projects/:project/error_tracking/issues": "api",
		"/api/environments/:project/error_tracking/symbol_sets/bulk_start_upload": "symbol_set_api",
		"/uploads/symbol-sets": "symbol_set_api", "/static/*": "static", "/metrics": "health",
		"/array/:token/config.js": "sdk_config", "/issues/:id": "pages", "/settings/project": "pages",
		"": "unmatched", "/*": "unmatched", "/api/projects/:project/*": "unmatched",
	} {
		if got := routeGroup(route); got != want {
			t.Errorf("routeGroup(%q) = %q, want %q", route, got, want)
		}
	}
}
