package bench

import (
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/stacklens/stacklens/event"
)

// Noop is the baseline the load generator's numbers are compared with: it
// reads capture bodies and decodes them with the same event package calls
// stacklens's capture handler makes (transport, token, splitting the batch),
// keeps the $exception events' count and stores nothing.
type Noop struct {
	MaxBodyBytes int64
	Limits       event.Limits
	events       atomic.Int64
}

// NewNoop makes a baseline server with stacklens's default limits.
func NewNoop() *Noop {
	return &Noop{MaxBodyBytes: 20 << 20, Limits: event.DefaultLimits()}
}

// Events is how many $exception events it decoded.
func (n *Noop) Events() int64 { return n.events.Load() }

// ServeHTTP answers every capture path like stacklens does, and /readyz with an always-empty inbox.
func (n *Noop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/readyz" {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"ready","inbox_events":0}`)
		return
	}
	received := time.Now()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, n.MaxBodyBytes))
	if err != nil {
		http.Error(w, "body: "+err.Error(), http.StatusBadRequest)
		return
	}
	in := event.CaptureInput{Method: r.Method, ContentType: r.Header.Get("Content-Type"),
		ContentEncoding: r.Header.Get("Content-Encoding"), Query: r.URL.Query(), Body: body}
	decoded, err := event.OpenPostHog(in, n.Limits)
	if err == nil {
		_, err = decoded.Token()
	}
	var raws []event.RawEvent
	if err == nil {
		raws, err = decoded.Events(received)
	}
	if err == nil && len(raws) > 0 {
		_, err = event.Tokens(raws)
	}
	if err != nil {
		status := http.StatusBadRequest
		var de *event.Error
		if errors.As(err, &de) {
			status = de.Status
		}
		http.Error(w, err.Error(), status)
		return
	}
	var count int64
	for _, r := range raws {
		if r.Name == "$exception" {
			count++
		}
	}
	n.events.Add(count)
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"status":1}`)
}
