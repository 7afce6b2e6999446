package handlers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
)

// preSessionCookie carries the secret the CSRF token of the forms shown
// before signing in (login, setup, accepting an invite) is derived from.
const preSessionCookie = "stacklens_presession"

// csrfMessage is what a refused form post says.
const csrfMessage = "This form has expired or did not come from stacklens. Reload the page and try again."

// newCrossOriginProtection refuses unsafe requests that browsers mark as
// coming from another site (Sec-Fetch-Site, else Origin against Host). The
// public URL's origin is trusted too, for proxies that rewrite Host.
func newCrossOriginProtection(publicURL string) *http.CrossOriginProtection {
	p := http.NewCrossOriginProtection()
	if u, err := url.Parse(publicURL); err == nil && u.Scheme != "" && u.Host != "" {
		_ = p.AddTrustedOrigin(u.Scheme + "://" + u.Host) // valid by construction
	}
	return p
}

// csrfTokenFor derives the form token from a secret only the browser and
// the server know (the session cookie, else the pre-session cookie; both
// HttpOnly). A token is therefore worth nothing with another cookie: a
// token and cookie pair someone else planted, or a token taken from another
// session, is refused.
func csrfTokenFor(secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("stacklens form token v1"))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// CSRF protects every form of the pages: cross-site posts are refused by
// Go's cross-origin protection, and every unsafe request must carry the
// `_csrf` field bound to this browser's session (or pre-session). Pages
// read the token with csrfToken.
func (h *Handlers) CSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if err := h.crossOrigin.Check(r); err != nil {
			return echo.NewHTTPError(http.StatusForbidden, csrfMessage).SetInternal(err)
		}
		secret := ""
		if cookie, err := c.Cookie(sessionCookie); err == nil && cookie.Value != "" {
			secret = cookie.Value
		} else if cookie, err := c.Cookie(preSessionCookie); err == nil && len(cookie.Value) >= 32 {
			secret = cookie.Value
		}
		safe := r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions
		if secret == "" {
			if !safe {
				return echo.NewHTTPError(http.StatusForbidden, csrfMessage)
			}
			secret = randomToken()
			// A browser-session cookie: it only has to live as long as the form.
			c.SetCookie(&http.Cookie{Name: preSessionCookie, Value: secret, Path: "/", HttpOnly: true,
				Secure: h.secureCookies(c), SameSite: http.SameSiteLaxMode})
		}
		token := csrfTokenFor(secret)
		c.Set(CSRFContextKey, token)
		if safe {
			return next(c)
		}
		if got := c.FormValue("_csrf"); !hmac.Equal([]byte(got), []byte(token)) {
			return echo.NewHTTPError(http.StatusForbidden, csrfMessage)
		}
		return next(c)
	}
}
