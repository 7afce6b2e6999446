package web

import (
	"github.com/labstack/echo/v4"

	"github.com/stacklens/stacklens/trustedproxy"
)

// pageCSP is the Content-Security-Policy of every page: scripts, styles,
// fonts and frames only from stacklens itself, no inline script or style
// (the templates have none; static/app.js and app.css do the rest), images
// from us or data: URLs, and forms post only back here.
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// hsts asks for a year: browsers that saw stacklens over HTTPS keep using it.
const hsts = "max-age=31536000"

// securityHeaders sets the page-only headers: the CSP on everything but the
// SDK and API endpoints (their JSON is read by scripts elsewhere, and a CSP
// there would only confuse), and HSTS on requests that came over HTTPS
// (directly, or as a trusted proxy says). nosniff, frame and referrer
// headers are set for every answer by echo's Secure middleware.
func securityHeaders(proxies trustedproxy.List) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			if proxies.HTTPS(c.Request()) {
				h.Set("Strict-Transport-Security", hsts)
			}
			if !apiPath(c.Request().URL.Path) {
				h.Set("Content-Security-Policy", pageCSP)
			}
			return next(c)
		}
	}
}
