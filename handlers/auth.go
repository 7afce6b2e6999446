package handlers

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/views"
)

const (
	sessionCookie   = "stacklens_session"
	sessionLifetime = 30 * 24 * time.Hour
	// CSRFContextKey is where the CSRF middleware leaves the form token.
	CSRFContextKey = "csrf"
	userContextKey = "user"
	minPasswordLen = 8
)

// HashSecret is how session tokens and API keys are stored: only their SHA-256.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// HashPassword hashes a password for storage.
func HashPassword(password string) (string, error) {
	b, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	return string(b), err
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func csrfToken(c echo.Context) string {
	s, _ := c.Get(CSRFContextKey).(string)
	return s
}

// currentUser is the logged-in user set by RequireSession.
func currentUser(c echo.Context) db.User {
	u, _ := c.Get(userContextKey).(db.User)
	return u
}

// RequireSession sends browsers without a valid session to /login (or /setup
// when no user exists yet).
func (h *Handlers) RequireSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if cookie, err := c.Cookie(sessionCookie); err == nil && cookie.Value != "" {
			_, user, err := h.accounts.SessionUser(c.Request().Context(), HashSecret(cookie.Value), time.Now())
			if err == nil {
				c.Set(userContextKey, user)
				return next(c)
			}
			if !errors.Is(err, db.ErrNotFound) {
				return err
			}
		}
		n, err := h.accounts.CountUsers(c.Request().Context())
		if err != nil {
			return err
		}
		if n == 0 {
			return c.Redirect(http.StatusSeeOther, "/setup")
		}
		return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request().URL.RequestURI()))
	}
}

// safeNext keeps redirects after sign-in on this site: next must be a path
// of ours ("/issues?status=active"), never something a browser could read
// as another origin. Browsers drop tabs and newlines inside URLs and treat a
// backslash like "/", so "/<tab>/evil.example" and "/<backslash>evil.example"
// both mean "//evil.example": anything but printable ASCII without
// backslashes is refused outright.
func safeNext(next string) string {
	const fallback = "/issues"
	if len(next) > 2048 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		return fallback
	}
	for i := 0; i < len(next); i++ {
		if b := next[i]; b <= ' ' || b >= 0x7f || b == '\\' {
			return fallback
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return fallback
	}
	return next
}

// secureCookies tells whether cookies set on this request get the Secure
// flag: always under an https:// public URL, else when the request came
// over HTTPS (directly or through a trusted proxy).
func (h *Handlers) secureCookies(c echo.Context) bool {
	return h.opts.SecureCookies || h.opts.TrustedProxies.HTTPS(c.Request())
}

// dummyPasswordHash is a bcrypt hash of a random password at the cost real
// hashes use; nobody can sign in with it.
func dummyPasswordHash() []byte {
	hash, err := bcrypt.GenerateFromPassword([]byte(randomToken()), bcrypt.DefaultCost)
	if err != nil {
		panic(fmt.Sprintf("bcrypt a random password: %v", err)) // only fails for passwords over 72 bytes
	}
	return hash
}

// retryAfter is the Retry-After header's value for wait: whole seconds, at least 1.
func retryAfter(wait time.Duration) int {
	return max(1, int(math.Ceil(wait.Seconds())))
}

// inMinutes says wait to a person: "1 minute", "14 minutes".
func inMinutes(wait time.Duration) string {
	m := max(1, int(math.Ceil(wait.Minutes())))
	if m == 1 {
		return "1 minute"
	}
	return strconv.Itoa(m) + " minutes"
}

// LoginForm shows the login page.
func (h *Handlers) LoginForm(c echo.Context) error {
	n, err := h.accounts.CountUsers(c.Request().Context())
	if err != nil {
		return err
	}
	if n == 0 {
		return c.Redirect(http.StatusSeeOther, "/setup")
	}
	return render(c, http.StatusOK, views.LoginPage(views.LoginView{CSRF: csrfToken(c), Next: safeNext(c.QueryParam("next"))}))
}

// Login checks the email and password and starts a session. Failed attempts
// are counted per account and per client address; past the limits every
// attempt, even with the right password, is answered 429 until the window
// has passed. Unknown emails cost the same bcrypt comparison as known ones.
func (h *Handlers) Login(c echo.Context) error {
	email := strings.TrimSpace(c.FormValue("email"))
	password := c.FormValue("password")
	next := safeNext(c.FormValue("next"))
	ip, now := c.RealIP(), time.Now()
	ok, wait, err := h.signins.Allow(c.Request().Context(), email, ip, now)
	if err != nil {
		return err
	}
	if !ok {
		c.Response().Header().Set("Retry-After", strconv.Itoa(retryAfter(wait)))
		return render(c, http.StatusTooManyRequests, views.LoginPage(views.LoginView{
			Email: email, CSRF: csrfToken(c), Next: next,
			Error: "Too many failed sign-ins for this account or from your network. Wait " + inMinutes(wait) + " and try again."}))
	}
	user, err := h.accounts.UserByEmail(c.Request().Context(), email)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return err
	}
	known := err == nil
	hash := h.dummyPasswordHash
	if known {
		hash = []byte(user.PasswordHash)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || !known {
		if err := h.signins.Fail(c.Request().Context(), email, ip, now); err != nil {
			return err
		}
		return render(c, http.StatusUnauthorized, views.LoginPage(views.LoginView{
			Email: email, Error: "Wrong email or password.", CSRF: csrfToken(c), Next: next}))
	}
	if err := h.signins.Succeed(c.Request().Context(), email, now); err != nil {
		return err
	}
	if err := h.startSession(c, user); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, next)
}

func (h *Handlers) startSession(c echo.Context, user db.User) error {
	token := randomToken()
	expires := time.Now().Add(sessionLifetime)
	if err := h.accounts.CreateSession(c.Request().Context(), db.Session{TokenHash: HashSecret(token), UserID: user.ID, ExpiresAt: expires}); err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: token, Path: "/", Expires: expires, HttpOnly: true,
		Secure: h.secureCookies(c), SameSite: http.SameSiteLaxMode})
	return nil
}

// Logout ends the session.
func (h *Handlers) Logout(c echo.Context) error {
	if cookie, err := c.Cookie(sessionCookie); err == nil {
		if err := h.accounts.DeleteSession(c.Request().Context(), HashSecret(cookie.Value)); err != nil {
			return err
		}
	}
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: h.secureCookies(c), SameSite: http.SameSiteLaxMode})
	return c.Redirect(http.StatusSeeOther, "/login")
}

// SetupForm shows the first-run form; once a user exists it sends people to /login.
func (h *Handlers) SetupForm(c echo.Context) error {
	n, err := h.accounts.CountUsers(c.Request().Context())
	if err != nil {
		return err
	}
	if n > 0 {
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	return render(c, http.StatusOK, views.SetupPage(views.SetupView{CSRF: csrfToken(c)}))
}

// Setup creates the first admin and logs them in.
func (h *Handlers) Setup(c echo.Context) error {
	email := strings.TrimSpace(c.FormValue("email"))
	password := c.FormValue("password")
	again := c.FormValue("password_confirm")
	fail := func(msg string) error {
		return render(c, http.StatusUnprocessableEntity, views.SetupPage(views.SetupView{Email: email, Error: msg, CSRF: csrfToken(c)}))
	}
	if !strings.Contains(email, "@") || len(email) > 254 {
		return fail("Enter a valid email address.")
	}
	if problem := checkNewPassword(password, again); problem != "" {
		return fail(problem)
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	user, err := h.accounts.CreateFirstAdmin(c.Request().Context(), email, hash)
	if errors.Is(err, db.ErrExists) {
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	if err != nil {
		return err
	}
	if err := h.startSession(c, user); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/issues")
}

// RequireAPIKey authenticates JSON API calls by a personal API key (Bearer).
func (h *Handlers) RequireAPIKey(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		key := bearerToken(c.Request())
		if key == "" {
			return apiError(http.StatusUnauthorized, "authentication_required",
				"Send a personal API key as `Authorization: Bearer <key>`.")
		}
		user, err := h.accounts.UserByAPIKey(c.Request().Context(), HashSecret(key))
		if errors.Is(err, db.ErrNotFound) {
			return apiError(http.StatusUnauthorized, "authentication_failed", "This personal API key is not valid.")
		}
		if err != nil {
			return err
		}
		if err := h.accounts.TouchAPIKey(c.Request().Context(), HashSecret(key)); err != nil {
			h.log.Warn("record api key use", "err", err)
		}
		c.Set(userContextKey, user)
		return next(c)
	}
}
