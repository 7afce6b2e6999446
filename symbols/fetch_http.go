package symbols

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/stacklens/stacklens/netguard"
)

// response is a completed GET whose body was read within the size cap.
type response struct {
	status   int
	header   http.Header
	body     []byte
	finalURL *url.URL // after redirects
}

func (r *response) ok() bool { return r.status >= 200 && r.status < 300 }

// fetchRun is one Fetch: it carries the deadline and records steps.
type fetchRun struct {
	f     *Fetcher
	ctx   context.Context
	steps []Step
}

// failf records nothing; it builds a failure that carries the steps so far.
func (r *fetchRun) failf(code, format string, args ...any) *Failure {
	fail := Failf(code, format, args...)
	fail.Steps = append([]Step(nil), r.steps...)
	return fail
}

// last is the most recent step, which get leaves describing the final
// response of its redirect chain.
func (r *fetchRun) last() *Step { return &r.steps[len(r.steps)-1] }

// get GETs rawURL, following redirects within the cap, and reads a 2xx
// body within MaxBytes. A non-2xx answer is a response, not a failure: the
// caller decides what it means. Every request and redirect becomes a step.
func (r *fetchRun) get(action, rawURL string) (*response, *Failure) {
	r.steps = append(r.steps, Step{Action: action, URL: rawURL})
	req, err := http.NewRequestWithContext(r.ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		r.last().Error = err.Error()
		return nil, r.failf(FailureInvalidSourcemapURL, "%s is not a URL stacklens can fetch: %v", rawURL, err)
	}
	req.Header.Set("User-Agent", r.f.cfg.UserAgent)
	client := &http.Client{Transport: r.f.transport, CheckRedirect: r.checkRedirect}
	resp, err := client.Do(req)
	if err != nil {
		fail := r.classify(rawURL, err)
		r.last().Error = fail.Message
		fail.Steps = append([]Step(nil), r.steps...)
		return nil, fail
	}
	defer resp.Body.Close()
	step := r.last()
	step.Status = resp.StatusCode
	out := &response{status: resp.StatusCode, header: resp.Header, finalURL: resp.Request.URL}
	if !out.ok() {
		step.Error = "answered " + statusText(resp.StatusCode)
		return out, nil
	}
	body, err := readCapped(resp.Body, resp.ContentLength, r.f.cfg.MaxBytes)
	step.Bytes = int64(len(body))
	if errors.Is(err, errTooLarge) {
		step.Error = fmt.Sprintf("larger than the %s limit", formatBytes(r.f.cfg.MaxBytes))
		what := resp.Request.URL.String()
		if resp.ContentLength > 0 {
			what += " (" + formatBytes(resp.ContentLength) + ")"
		}
		return nil, r.failf(FailureTooLarge, "%s is larger than the %s limit", what, formatBytes(r.f.cfg.MaxBytes))
	}
	if err != nil {
		fail := r.classify(resp.Request.URL.String(), err)
		step.Error = fail.Message
		fail.Steps = append([]Step(nil), r.steps...)
		return nil, fail
	}
	out.body = body
	return out, nil
}

// redirectError is how checkRedirect stops a chain; classify turns it into
// a network_error that says why.
type redirectError struct{ reason string }

func (e *redirectError) Error() string { return e.reason }

// checkRedirect records each hop as a step and stops loops, long chains and
// redirects away from http(s).
func (r *fetchRun) checkRedirect(next *http.Request, via []*http.Request) error {
	if next.Response != nil {
		r.last().Status = next.Response.StatusCode
	}
	r.steps = append(r.steps, Step{Action: StepRedirect, URL: next.URL.String()})
	chain := make([]string, 0, len(via)+1)
	for _, v := range via {
		chain = append(chain, v.URL.String())
	}
	chain = append(chain, next.URL.String())
	for _, v := range via {
		if v.URL.String() == next.URL.String() {
			return &redirectError{"redirect loop: " + strings.Join(chain, " → ")}
		}
	}
	if len(via) > r.f.cfg.MaxRedirects {
		return &redirectError{fmt.Sprintf("more than %d redirects: %s", r.f.cfg.MaxRedirects, strings.Join(chain, " → "))}
	}
	if s := next.URL.Scheme; s != "http" && s != "https" {
		return &redirectError{fmt.Sprintf("redirected to %s, which is not an http or https URL", next.URL)}
	}
	return nil
}

// classify turns a transport error into a failure with a sentence a person
// understands.
func (r *fetchRun) classify(rawURL string, err error) *Failure {
	var blocked *netguard.BlockedError
	var redirect *redirectError
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.As(err, &blocked):
		return Failf(FailureBlockedAddress, "%s was not fetched: it connects to %s (%s), which stacklens refuses unless STACKLENS_FETCH_ALLOW_PRIVATE is set",
			rawURL, blocked.Address, blocked.Reason)
	case errors.As(err, &redirect):
		return Failf(FailureNetworkError, "GET %s: %s", rawURL, redirect.reason)
	case errors.As(err, &dnsErr) && !errors.Is(r.ctx.Err(), context.DeadlineExceeded):
		return Failf(FailureNetworkError, "GET %s: could not resolve host %s (%s)", rawURL, dnsErr.Name, dnsErr.Err)
	case errors.Is(r.ctx.Err(), context.DeadlineExceeded):
		return Failf(FailureFetchTimeout, "GET %s did not finish within %s", rawURL, r.f.cfg.TotalTimeout)
	case errors.As(err, &opErr) && opErr.Op == "dial" && opErr.Timeout():
		return Failf(FailureFetchTimeout, "GET %s: connecting to %s took longer than %s", rawURL, opErr.Addr, r.f.cfg.ConnectTimeout)
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() && strings.Contains(err.Error(), "awaiting response headers") {
		return Failf(FailureFetchTimeout, "GET %s: the server accepted the connection but sent no answer within %s", rawURL, r.f.cfg.FirstByteTimeout)
	}
	if errors.As(err, &netErr) && netErr.Timeout() {
		return Failf(FailureFetchTimeout, "GET %s timed out: %v", rawURL, unwrapURLError(err))
	}
	return Failf(FailureNetworkError, "GET %s failed: %v", rawURL, unwrapURLError(err))
}

// unwrapURLError drops net/http's `Get "url": ` prefix, which our messages
// already say.
func unwrapURLError(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}

var errTooLarge = errors.New("response larger than the size limit")

// readCapped reads body up to limit bytes and fails with errTooLarge past
// it, without ever allocating more than limit+1 bytes for the data: a
// declared Content-Length over the limit fails before reading anything.
func readCapped(body io.Reader, contentLength, limit int64) ([]byte, error) {
	if contentLength > limit {
		return nil, errTooLarge
	}
	size := int64(32 << 10)
	if contentLength >= 0 {
		size = contentLength + 1 // +1 so a lying Content-Length is noticed
	}
	size = min(size, limit+1)
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) > limit {
				return buf[:limit], errTooLarge
			}
			grown := make([]byte, len(buf), min(2*int64(cap(buf))+512, limit+1))
			copy(grown, buf)
			buf = grown
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return buf[:limit], errTooLarge
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

func statusText(code int) string {
	if text := http.StatusText(code); text != "" {
		return fmt.Sprintf("%d %s", code, text)
	}
	return fmt.Sprint(code)
}

// formatBytes writes a size the way people read it: 512 B, 1.5 KiB, 50 MiB.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	value, suffix := float64(n), ""
	for _, s := range []string{"KiB", "MiB", "GiB", "TiB"} {
		value /= unit
		suffix = s
		if value < unit {
			break
		}
	}
	return strings.TrimSuffix(fmt.Sprintf("%.1f", value), ".0") + " " + suffix
}
