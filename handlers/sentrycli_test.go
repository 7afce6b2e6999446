package handlers_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/stacklens/stacklens/internal/testserver"
)

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// A chunk upload that is too large, whether declared so or only found so
// while reading, is a 413; one whose multipart body breaks off is a 400
// saying so.
func TestSentryUploadChunksRefusesTooLargeAndIncompleteBodies(t *testing.T) {
	s := testserver.New(t)
	const path = "/api/0/organizations/acme/chunk-upload/"
	send := func(body io.Reader, contentType string, length int64) testserver.Response {
		req, err := http.NewRequest(http.MethodPost, s.URL+path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = length
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Authorization", "Bearer "+s.APIKey())
		return s.Do(req)
	}

	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	if _, err := mw.CreateFormFile("file", "da39a3ee5e6b4b0d3255bfef95601890afd80709"); err != nil {
		t.Fatal(err)
	}
	huge := int64(34 << 20) // past the 32 MiB cap and its 1 MiB of multipart framing

	declared := send(io.MultiReader(bytes.NewReader(head.Bytes()), io.LimitReader(zeros{}, huge)), mw.FormDataContentType(), int64(head.Len())+huge)
	if declared.Status != http.StatusRequestEntityTooLarge || !strings.Contains(declared.Body, "too_large") || !strings.Contains(declared.Body, "at most 32 MiB") {
		t.Errorf("declared too large: %d %s; want 413 too_large", declared.Status, declared.Body)
	}
	// Length unknown (chunked): the body is found too large while reading it.
	streamed := send(io.MultiReader(bytes.NewReader(head.Bytes()), io.LimitReader(zeros{}, huge)), mw.FormDataContentType(), -1)
	if streamed.Status != http.StatusRequestEntityTooLarge || !strings.Contains(streamed.Body, "too_large") {
		t.Errorf("streamed too large: %d %s; want 413 too_large", streamed.Status, streamed.Body)
	}
	// The part starts but the body ends without its closing boundary.
	cut := send(io.MultiReader(bytes.NewReader(head.Bytes()), strings.NewReader("abc")), mw.FormDataContentType(), int64(head.Len()+3))
	if cut.Status != http.StatusBadRequest || !strings.Contains(cut.Body, "did not arrive complete") {
		t.Errorf("cut short: %d %s; want 400 did not arrive complete", cut.Status, cut.Body)
	}
}
