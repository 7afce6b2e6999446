package symbols

import "fmt"

// Failure codes are stable: they are stored with symbol sets and frame
// resolutions (event.Resolution.FailureCode) and shown on the symbol-set
// pages. Never rename one.
const (
	// FailureNoReference: the frame names no chunk id, debug id or http(s) URL.
	FailureNoReference = "no_reference"
	// FailureBlockedAddress: the host resolved to a loopback, private,
	// link-local or metadata address and fetching those is not allowed.
	FailureBlockedAddress = "blocked_address"
	// FailureFetchTimeout: connecting or downloading took too long.
	FailureFetchTimeout = "fetch_timeout"
	// FailureHTTPStatus: a server answered with a non-2xx status.
	FailureHTTPStatus = "http_status"
	// FailureNetworkError: DNS, connection, TLS or redirect trouble.
	FailureNetworkError = "network_error"
	// FailureTooLarge: a response exceeded the size cap.
	FailureTooLarge = "too_large"
	// FailureNoSourcemapURL: no SourceMap header, no sourceMappingURL
	// comment and no map at <url>.map.
	FailureNoSourcemapURL = "no_sourcemap_url"
	// FailureInvalidSourcemapURL: the map reference cannot be fetched
	// (unparseable, or not http/https).
	FailureInvalidSourcemapURL = "invalid_sourcemap_url"
	// FailureInvalidDataURL: an inline data: map cannot be decoded.
	FailureInvalidDataURL = "invalid_data_url"
	// FailureInvalidSourcemap: the map is not a usable version 3 source map.
	FailureInvalidSourcemap = "invalid_sourcemap"
	// FailureTokenNotFound: the map has no mapping for the frame's position.
	FailureTokenNotFound = "token_not_found"
	// FailureNotUploaded: the frame names a chunk or debug id for which no
	// source map was uploaded.
	FailureNotUploaded = "not_uploaded"
	// FailureMissingSourcesContent: the map resolved the frame but carries
	// no sourcesContent, so no code can be shown.
	FailureMissingSourcesContent = "missing_sources_content"
	// FailureFetchPending: the symbol set is being fetched in the
	// background; its frames are being resolved, not failed.
	FailureFetchPending = "fetch_pending"
	// FailureFetchRateLimited: the project started more new fetches within
	// the last hour than allowed (STACKLENS_FETCH_NEW_REFS_PER_HOUR); no
	// symbol set was created, and the frame is tried again later.
	FailureFetchRateLimited = "fetch_rate_limited"
)

// FailureCodes lists every code, in the order the constants are declared.
func FailureCodes() []string {
	return []string{
		FailureNoReference, FailureBlockedAddress, FailureFetchTimeout, FailureHTTPStatus,
		FailureNetworkError, FailureTooLarge, FailureNoSourcemapURL, FailureInvalidSourcemapURL,
		FailureInvalidDataURL, FailureInvalidSourcemap, FailureTokenNotFound, FailureNotUploaded,
		FailureMissingSourcesContent, FailureFetchPending, FailureFetchRateLimited,
	}
}

// Failure is why a symbol set could not be fetched or used. It is stored as
// JSON with the symbol set and shown to people, so Message is a specific
// sentence ("GET http://x/app.js.map answered 404 Not Found") and Steps
// tell what was tried, in order.
type Failure struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Steps   []Step `json:"steps,omitempty"`
}

// Failf builds a Failure with a formatted message.
func Failf(code, format string, args ...any) *Failure {
	return &Failure{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Error makes a Failure usable as an error. Beware of returning a nil
// *Failure as an error: the interface would not be nil.
func (f *Failure) Error() string { return f.Code + ": " + f.Message }

// Advice is what a person can do about a failure.
func (f *Failure) Advice() string { return Advice(f.Code) }

// Step is one thing the fetcher did on the way to a map or a failure.
type Step struct {
	// Action says what was tried (the Step* constants).
	Action string `json:"action"`
	URL    string `json:"url,omitempty"`
	// Status is the HTTP status answered, 0 when there was no answer.
	Status int `json:"status,omitempty"`
	// Found names where the next URL came from (the Found* constants).
	Found string `json:"found,omitempty"`
	// Bytes is how much was read (or decoded, for a data: URL).
	Bytes int64  `json:"bytes,omitempty"`
	Error string `json:"error,omitempty"`
}

// Step actions.
const (
	StepFetchMinified = "fetch minified file"
	StepFetchMap      = "fetch source map"
	StepFetchFallback = "try <url>.map"
	StepRedirect      = "follow redirect"
	StepDecodeDataURL = "decode data: URL"
	StepValidateMap   = "validate source map"
)

// Where a source map reference was found.
const (
	FoundSourceMapHeader  = "SourceMap header"
	FoundXSourceMapHeader = "X-SourceMap header"
	FoundComment          = "//# sourceMappingURL comment"
	FoundLegacyComment    = "//@ sourceMappingURL comment"
	FoundMapFallback      = ".map fallback"
	FoundDataURL          = "data: URL"
	FoundNothing          = "no SourceMap header or sourceMappingURL comment"
)

// Advice says what a person can do about a failure code; "" for an unknown
// code.
func Advice(code string) string {
	switch code {
	case FailureNoReference:
		return "The frame carries no chunk id, debug id or http(s) URL, so there is nothing to look a source map up by. " +
			"Serve the bundle over http(s), or inject chunk ids with `stacklens sourcemap inject` and upload the maps."
	case FailureBlockedAddress:
		return "The file is served from a loopback, private or link-local address, which stacklens does not fetch by default. " +
			"Upload the source map instead, or set STACKLENS_FETCH_ALLOW_PRIVATE=true if this server should reach your private network."
	case FailureFetchTimeout:
		return "The server was too slow to answer. Check that it is reachable from the stacklens server, then retry, or upload the source map."
	case FailureHTTPStatus:
		return "The server refused the file. Check that the URL is public (no login, no IP allow-list) and that the file is deployed, " +
			"then retry, or upload the source map."
	case FailureNetworkError:
		return "The server could not be reached (DNS, connection, TLS or redirects). Check the URL from the stacklens host, then retry, " +
			"or upload the source map."
	case FailureTooLarge:
		return "The file is larger than the fetch size limit. Upload the source map with `stacklens sourcemap upload` or on this page."
	case FailureNoSourcemapURL:
		return "The minified file does not say where its source map is. Build with source maps on (e.g. esbuild --sourcemap, " +
			"webpack devtool: 'source-map'), keep the `//# sourceMappingURL=` comment or send a SourceMap header, or upload the map."
	case FailureInvalidSourcemapURL:
		return "The sourceMappingURL cannot be fetched (it is malformed or not http/https). Fix the comment or header in your build, " +
			"or upload the source map."
	case FailureInvalidDataURL:
		return "The inline (data:) source map is not valid base64 or percent-encoded data. Fix the build's inline map, " +
			"or emit a separate .map file, or upload the map."
	case FailureInvalidSourcemap:
		return "The file found is not a version 3 source map. Check that the server returns the .map file itself " +
			"(not an HTML page) and upload a valid map if needed."
	case FailureTokenNotFound:
		return "The source map has no mapping for this line and column. The map probably belongs to a different build " +
			"of the file: upload the map produced with the deployed bundle."
	case FailureNotUploaded:
		return "Upload the source map for this chunk with `stacklens sourcemap upload` or on this page."
	case FailureFetchPending:
		return "stacklens is fetching the minified file and its source map in the background. The frame is being resolved: " +
			"reload the page in a few seconds to see the result."
	case FailureFetchRateLimited:
		return "This project asked stacklens to fetch more new source-map URLs within an hour than STACKLENS_FETCH_NEW_REFS_PER_HOUR allows, " +
			"so this one was not fetched yet; it is tried again later. Many distinct URLs usually come from query strings " +
			"that change per page load: serve bundles under stable URLs, or upload the source maps."
	case FailureMissingSourcesContent:
		return "The source map has no sourcesContent, so no code can be shown. Build with sources included " +
			"(e.g. esbuild --sources-content=true, webpack without noSources) and upload the map again."
	}
	return ""
}

// AdviceFor is Advice made specific to what the fetcher saw: an HTTP status
// failure says what that status means (a 404 is a missing file, not a
// refusal).
func AdviceFor(f *Failure) string {
	if f == nil {
		return ""
	}
	if f.Code == FailureHTTPStatus {
		status := 0
		for _, s := range f.Steps {
			if s.Status != 0 {
				status = s.Status
			}
		}
		switch {
		case status == 404 || status == 410:
			return "The file is not on the server at that URL. Check that this build is deployed there and that the " +
				"frame's URL or the sourceMappingURL points at it, then retry, or upload the source map."
		case status == 401 || status == 403:
			return "The server refused the file. Check that the URL is public (no login, no IP allow-list), " +
				"then retry, or upload the source map."
		case status >= 500:
			return "The server failed while answering. Retry later, or upload the source map."
		}
	}
	return Advice(f.Code)
}

// Summary says in one sentence what a failure code means, for a frame whose
// symbol set holds no message of its own; "" for an unknown code.
func Summary(code string) string {
	switch code {
	case FailureNoReference:
		return "The frame names no file URL, chunk id or debug id to find a source map by."
	case FailureBlockedAddress:
		return "The file is on a private address, which stacklens does not fetch."
	case FailureFetchTimeout:
		return "Fetching the file or its source map took too long."
	case FailureHTTPStatus:
		return "The server answered the request for the file or its source map with an error."
	case FailureNetworkError:
		return "The server holding the file could not be reached."
	case FailureTooLarge:
		return "The file or its source map is larger than the fetch limit."
	case FailureNoSourcemapURL:
		return "The minified file does not say where its source map is."
	case FailureInvalidSourcemapURL:
		return "The minified file's source map address cannot be fetched."
	case FailureInvalidDataURL:
		return "The file's inline source map cannot be decoded."
	case FailureInvalidSourcemap:
		return "The source map found is not a valid version 3 map."
	case FailureTokenNotFound:
		return "The source map has no mapping at this line and column."
	case FailureNotUploaded:
		return "No source map was uploaded for this file's chunk or debug id."
	case FailureMissingSourcesContent:
		return "The source map carries no original code to show."
	case FailureFetchPending:
		return "The file and its source map are being fetched: this frame is being resolved."
	case FailureFetchRateLimited:
		return "This project reached its hourly limit of new source-map fetches; the file is fetched later."
	}
	return ""
}
