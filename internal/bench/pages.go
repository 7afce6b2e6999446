package bench

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// PageTiming is how long one page took over a number of loads.
type PageTiming struct {
	Name, Path    string
	Loads         int
	P50, P99, Max time.Duration
	Bytes         int // size of the last answer
}

func (p PageTiming) String() string {
	return fmt.Sprintf("%-28s p50 %8s  p99 %8s  max %8s  (%d loads, %d bytes) %s", p.Name, p.P50.Round(10*time.Microsecond),
		p.P99.Round(10*time.Microsecond), p.Max.Round(10*time.Microsecond), p.Loads, p.Bytes, p.Path)
}

// PagesConfig says which server to sign in to and how often to load each page.
type PagesConfig struct {
	URL, Email, Password string
	Loads                int    // per page, after one warm-up load
	Search               string // the search term of the search variant
}

// SignIn signs in through the login form and returns a client holding the session.
func SignIn(ctx context.Context, base, email, password string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form, err := get(ctx, client, base+"/login")
	if err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	m := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindStringSubmatch(form)
	if m == nil {
		return nil, errors.New("sign in: the login page has no CSRF field (does the server have a user yet?)")
	}
	vals := url.Values{"email": {email}, "password": {password}, "_csrf": {html.UnescapeString(m[1])}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/login", strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("sign in as %s: answered %d", email, resp.StatusCode)
	}
	return client, nil
}

// Pages times the issue list (default order, by occurrences, a search) and
// the pages of the list's first issue and of the issue with the most events.
func Pages(ctx context.Context, cfg PagesConfig) ([]PageTiming, error) {
	base := strings.TrimRight(cfg.URL, "/")
	client, err := SignIn(ctx, base, cfg.Email, cfg.Password)
	if err != nil {
		return nil, err
	}
	list, err := get(ctx, client, base+"/issues")
	if err != nil {
		return nil, err
	}
	firstIssue := regexp.MustCompile(`href="/issues/(\d+)"`)
	m := firstIssue.FindStringSubmatch(list)
	if m == nil {
		return nil, errors.New("pages: the issue list shows no issue")
	}
	byCount, err := get(ctx, client, base+"/issues?sort=occurrences")
	if err != nil {
		return nil, err
	}
	biggest := firstIssue.FindStringSubmatch(byCount)
	if biggest == nil {
		return nil, errors.New("pages: the issue list by occurrences shows no issue")
	}
	search := cfg.Search
	if search == "" {
		search = "payment"
	}
	pages := []struct{ name, path string }{
		{"issues (default)", "/issues"},
		{"issues sort=occurrences", "/issues?sort=occurrences"},
		{"issues search", "/issues?q=" + url.QueryEscape(search)},
		{"issue page (latest)", "/issues/" + m[1]},
		{"issue page (most events)", "/issues/" + biggest[1]},
	}
	var out []PageTiming
	for _, p := range pages {
		t := PageTiming{Name: p.name, Path: p.path, Loads: max(cfg.Loads, 1)}
		if _, err := get(ctx, client, base+p.path); err != nil { // warm-up
			return nil, err
		}
		var times []time.Duration
		for range t.Loads {
			start := time.Now()
			body, err := get(ctx, client, base+p.path)
			if err != nil {
				return nil, err
			}
			times = append(times, time.Since(start))
			t.Bytes = len(body)
		}
		slices.Sort(times)
		t.P50, t.P99, t.Max = times[len(times)/2], times[min(len(times)-1, len(times)*99/100)], times[len(times)-1]
		out = append(out, t)
	}
	return out, nil
}

func get(ctx context.Context, client *http.Client, u string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("GET %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: answered %d", u, resp.StatusCode)
	}
	return string(body), nil
}
