package uploadcli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"
)

// Client talks to the symbol-set API of a stacklens or PostHog server as
// posthog-cli does: JSON with a bearer personal API key under
// /api/projects/{project}/error_tracking/symbol_sets/.
type Client struct {
	Host      string // base URL, e.g. http://127.0.0.1:8000
	APIKey    string
	Project   string
	UserAgent string
	HTTP      *http.Client
	// Retries is how often a request is tried again after a network error or
	// a 429/5xx answer, waiting RetryWait, then twice as long each time.
	Retries   int
	RetryWait time.Duration
	// Force replaces symbol sets the server holds with other content;
	// SkipOnConflict skips them instead. With neither, such a conflict fails the upload.
	Force          bool
	SkipOnConflict bool
}

// APIError is a non-2xx answer.
type APIError struct {
	Status int
	URL    string
	Detail string // the server's "detail", or the start of its body
}

func (e *APIError) Error() string {
	switch e.Status {
	case http.StatusUnauthorized:
		return fmt.Sprintf("401 from %s: the API key is not valid", e.URL)
	case http.StatusForbidden:
		return fmt.Sprintf("403 from %s: the API key may not upload to this project%s", e.URL, suffix(e.Detail))
	case http.StatusNotFound:
		return fmt.Sprintf("404 from %s: no such project, or no symbol-set API at this host (check --host and --project)%s", e.URL, suffix(e.Detail))
	}
	if e.Detail == "" {
		return fmt.Sprintf("%d from %s", e.Status, e.URL)
	}
	return fmt.Sprintf("%d from %s: %s", e.Status, e.URL, e.Detail)
}

func suffix(detail string) string {
	if detail == "" {
		return ""
	}
	return " (" + detail + ")"
}

// UploadSummary counts what an upload run did.
type UploadSummary struct {
	Uploaded       int
	AlreadyPresent int // the server already had these sets
}

type presignedURL struct {
	URL    string            `json:"url"`
	Fields map[string]string `json:"fields"`
}

type startUploadRequest struct {
	SymbolSets     []symbolSetRequest `json:"symbol_sets"`
	Force          bool               `json:"force"`
	SkipOnConflict bool               `json:"skip_on_conflict"`
}

type symbolSetRequest struct {
	ChunkID     string  `json:"chunk_id"`
	ReleaseID   *string `json:"release_id"`
	ContentHash string  `json:"content_hash"`
}

type startUploadResponse struct {
	IDMap map[string]struct {
		PresignedURL presignedURL `json:"presigned_url"`
		SymbolSetID  string       `json:"symbol_set_id"`
	} `json:"id_map"`
}

type finishUploadRequest struct {
	ContentHashes map[string]string `json:"content_hashes"`
}

// Upload sends uploads in batches: bulk_start_upload, one multipart POST per
// set the server asks for, bulk_finish_upload. progress, when not nil, is
// called after each file is sent.
func (c *Client) Upload(ctx context.Context, uploads []Upload, batchSize int, progress func(done, total int)) (UploadSummary, error) {
	var sum UploadSummary
	if batchSize <= 0 {
		batchSize = 50
	}
	done := 0
	for start := 0; start < len(uploads); start += batchSize {
		batch := uploads[start:min(start+batchSize, len(uploads))]
		req := startUploadRequest{Force: c.Force, SkipOnConflict: c.SkipOnConflict}
		byChunk := map[string]Upload{}
		for _, u := range batch {
			req.SymbolSets = append(req.SymbolSets, symbolSetRequest{ChunkID: u.ChunkID, ReleaseID: u.ReleaseID, ContentHash: u.ContentHash})
			byChunk[u.ChunkID] = u
		}
		var started startUploadResponse
		if err := c.postJSON(ctx, "error_tracking/symbol_sets/bulk_start_upload", req, &started); err != nil {
			return sum, fmt.Errorf("start upload: %w", err)
		}
		sum.AlreadyPresent += len(batch) - len(started.IDMap)
		finish := finishUploadRequest{ContentHashes: map[string]string{}}
		for chunkID, target := range started.IDMap {
			u, ok := byChunk[chunkID]
			if !ok {
				return sum, fmt.Errorf("start upload: the server answered for chunk id %q, which was not asked for", chunkID)
			}
			if err := c.sendFile(ctx, target.PresignedURL, u.Data); err != nil {
				return sum, fmt.Errorf("upload %s: %w", u.Path, err)
			}
			finish.ContentHashes[target.SymbolSetID] = u.ContentHash
			done++
			if progress != nil {
				progress(done, len(uploads))
			}
		}
		if len(finish.ContentHashes) > 0 {
			if err := c.postJSON(ctx, "error_tracking/symbol_sets/bulk_finish_upload", finish, nil); err != nil {
				return sum, fmt.Errorf("finish upload (the maps were not attached): %w", err)
			}
		}
		sum.Uploaded += len(finish.ContentHashes)
	}
	return sum, nil
}

// projectURL joins path under /api/projects/{project}/ as posthog-cli's URL
// joining does (no trailing slash added).
func (c *Client) projectURL(path string) (string, error) {
	base, err := url.Parse(c.Host)
	if err != nil || base.Scheme == "" || base.Host == "" {
		return "", fmt.Errorf("host %q is not a URL like http://127.0.0.1:8000", c.Host)
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	ref, err := url.Parse("api/projects/" + url.PathEscape(c.Project) + "/" + path)
	if err != nil {
		return "", fmt.Errorf("build URL: %w", err)
	}
	return base.ResolveReference(ref).String(), nil
}

func (c *Client) postJSON(ctx context.Context, path string, body, out any) error {
	u, err := c.projectURL(path)
	if err != nil {
		return err
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	resp, err := c.do(ctx, func() (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(payload))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+c.APIKey)
		return req, nil
	})
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(resp, out); err != nil {
		return fmt.Errorf("the answer of %s is not the expected JSON: %w", u, err)
	}
	return nil
}

// sendFile POSTs the blob to a presigned URL: every field, then the part
// "file" (with filename "file": S3-compatible stores need one). No API key
// goes with it; the fields are the authorisation.
func (c *Client) sendFile(ctx context.Context, target presignedURL, data []byte) error {
	u, err := url.Parse(target.URL)
	if err != nil {
		return fmt.Errorf("presigned URL %q: %w", target.URL, err)
	}
	if !u.IsAbs() {
		base, err := url.Parse(c.Host)
		if err != nil {
			return fmt.Errorf("host %q: %w", c.Host, err)
		}
		u = base.ResolveReference(u)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range target.Fields {
		if err := mw.WriteField(k, v); err != nil {
			return err
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="file"`)
	part, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	if _, err := part.Write(data); err != nil {
		return err
	}
	if err := mw.Close(); err != nil {
		return err
	}
	_, err = c.do(ctx, func() (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body.Bytes()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", mw.FormDataContentType())
		return req, nil
	})
	return err
}

// do sends a request (made fresh for each try) and returns the body of a 2xx
// answer; other answers become an *APIError.
func (c *Client) do(ctx context.Context, newReq func() (*http.Request, error)) ([]byte, error) {
	wait := c.RetryWait
	for attempt := 0; ; attempt++ {
		req, err := newReq()
		if err != nil {
			return nil, err
		}
		if c.UserAgent != "" {
			req.Header.Set("User-Agent", c.UserAgent)
		}
		body, err := c.once(req)
		if err == nil || attempt >= c.Retries || !transient(err) {
			return body, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(wait):
		}
		wait *= 2
	}
}

func (c *Client) once(req *http.Request) ([]byte, error) {
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, &networkError{host: req.URL.Host, err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, &networkError{host: req.URL.Host, err: err}
	}
	if resp.StatusCode/100 != 2 {
		return nil, &APIError{Status: resp.StatusCode, URL: req.URL.String(), Detail: detailOf(body)}
	}
	return body, nil
}

type networkError struct {
	host string
	err  error
}

func (e *networkError) Error() string {
	return fmt.Sprintf("cannot reach %s: %v", e.host, e.err)
}

func (e *networkError) Unwrap() error { return e.err }

// transient says whether trying again may help: timeouts, dropped
// connections and 429/5xx answers, not a refused connection or a 4xx.
func transient(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Status == http.StatusTooManyRequests || apiErr.Status >= 500
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return false
	}
	var dnsErr *net.DNSError
	return !errors.As(err, &dnsErr)
}

// detailOf pulls a human sentence out of an error body: PostHog's and our
// {"detail": …}, else the first line of text.
func detailOf(body []byte) string {
	var e struct {
		Detail string `json:"detail"`
		Error  string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil {
		if e.Detail != "" {
			return e.Detail
		}
		if e.Error != "" {
			return e.Error
		}
	}
	s := strings.TrimSpace(string(body))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
