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
}

// DefaultLimits are the limits the server uses unless configured otherwise.
func DefaultLimits() Limits {
	return Limits{MaxDecompressed: 64 << 20, MaxEvent: 2 << 20}
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
