package symbols

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// mapRefFromHeader reads the SourceMap header, else the older X-SourceMap.
func mapRefFromHeader(h http.Header) (ref, found string) {
	if v := strings.TrimSpace(h.Get("SourceMap")); v != "" {
		return v, FoundSourceMapHeader
	}
	if v := strings.TrimSpace(h.Get("X-SourceMap")); v != "" {
		return v, FoundXSourceMapHeader
	}
	return "", ""
}

// mapRefFromComment finds the last `//# sourceMappingURL=` (or legacy
// `//@`) comment, as browsers and Node do. The URL must run to the end of
// its line, which rejects the same text inside a string literal such as
// `"//# sourceMappingURL=" + name`.
func mapRefFromComment(src []byte) (ref, found string) {
	const marker = "sourceMappingURL="
	end := len(src)
	for {
		i := bytes.LastIndex(src[:end], []byte(marker))
		if i < 0 {
			return "", ""
		}
		end = i
		k := i
		for k > 0 && (src[k-1] == ' ' || src[k-1] == '\t') {
			k--
		}
		if k < 3 || string(src[k-3:k-1]) != "//" || (src[k-1] != '#' && src[k-1] != '@') {
			continue
		}
		start := i + len(marker)
		stop := start
		for stop < len(src) && !isSpaceByte(src[stop]) && src[stop] != '"' && src[stop] != '\'' {
			stop++
		}
		rest := stop
		for rest < len(src) && (src[rest] == ' ' || src[rest] == '\t') {
			rest++
		}
		if stop == start || (rest < len(src) && src[rest] != '\n' && src[rest] != '\r') {
			continue
		}
		if src[k-1] == '@' {
			return string(src[start:stop]), FoundLegacyComment
		}
		return string(src[start:stop]), FoundComment
	}
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isDataURL(ref string) bool {
	return len(ref) >= 5 && strings.EqualFold(ref[:5], "data:")
}

// resolveMapURL resolves a map reference against the minified file's URL.
// problem is "" or the end of a sentence saying what is wrong.
func resolveMapURL(base *url.URL, ref string) (mapURL, problem string) {
	u, err := base.Parse(ref)
	if err != nil {
		return "", fmt.Sprintf("is not a valid URL (%v)", unwrapURLError(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", "is not an http or https URL"
	}
	if u.Host == "" {
		return "", "has no host"
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String(), ""
}

// decodeDataURL decodes an RFC 2397 data: URL, base64 or percent-encoded,
// ignoring the media type and its parameters (charset=utf-8 and the like).
func decodeDataURL(ref string) ([]byte, error) {
	if !isDataURL(ref) {
		return nil, errors.New("not a data: URL")
	}
	meta, payload, ok := strings.Cut(ref[len("data:"):], ",")
	if !ok {
		return nil, errors.New("no comma between the media type and the data")
	}
	isBase64 := false
	for _, param := range strings.Split(meta, ";")[1:] {
		if strings.EqualFold(strings.TrimSpace(param), "base64") {
			isBase64 = true
		}
	}
	text, err := url.PathUnescape(payload)
	if err != nil {
		return nil, fmt.Errorf("bad percent-encoding: %w", err)
	}
	if !isBase64 {
		return []byte(text), nil
	}
	text = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, text)
	// Standard alphabet first; unpadded and URL-safe forms occur in the wild.
	decoded, err := base64.StdEncoding.DecodeString(text)
	if err == nil {
		return decoded, nil
	}
	trimmed := strings.TrimRight(text, "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if d, e := enc.DecodeString(trimmed); e == nil {
			return d, nil
		}
	}
	return nil, fmt.Errorf("not valid base64: %w", err)
}
