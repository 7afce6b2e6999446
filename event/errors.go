package event

import (
	"fmt"
	"net/http"
)

// Limits bound how much memory one request may make the decoder use.
type Limits struct {
	// MaxDecompressed is the largest payload, in bytes, after undoing
	// compression and encodings.
	MaxDecompressed int64
	// MaxEvent is the largest single event, in bytes of JSON.
	MaxEvent int64
	// MaxEvents is the most events one request may hold.
	MaxEvents int
}

// DefaultLimits are the limits the server uses unless configured
// otherwise, after Sentry Relay's published ones: 100 MiB inflated, 1 MiB
// per event. 10,000 events per request is far more than SDKs batch at
// once and stops a small body of millions of tiny events early.
func DefaultLimits() Limits {
	return Limits{MaxDecompressed: 100 << 20, MaxEvent: 1 << 20, MaxEvents: 10_000}
}

// Error is a problem with what the client sent. Status is the HTTP status
// the handler should answer with (400, 401 or 413) and Msg a sentence a
// person can act on.
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

func badRequest(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Msg: fmt.Sprintf(format, args...)}
}

func tooLarge(format string, args ...any) *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Msg: fmt.Sprintf(format, args...)}
}

func unauthorized(format string, args ...any) *Error {
	return &Error{Status: http.StatusUnauthorized, Msg: fmt.Sprintf(format, args...)}
}
