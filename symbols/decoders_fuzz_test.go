package symbols

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// Fuzz targets for the symbols package's decoders of untrusted input. Their
// seeds run in every `go test` (with those committed under
// testdata/fuzz/<target>/); explore with
// `go test -run '^$' -fuzz '^FuzzX$' ./symbols/`.

// FuzzUploadBlob: DecodeUploadBlob never panics, refuses only with its two
// errors, never returns more than the limit, and round-trips: what it
// decodes encodes (every version) and decodes back to the same; and any
// minified source and map encode and decode back unchanged.
func FuzzUploadBlob(f *testing.F) {
	const limit = 1 << 16
	f.Add(EncodeUploadBlob(BlobVersion1, false, []byte("var a=1"), []byte(`{"version":3}`)), []byte("x"), []byte("{}"))
	f.Add(EncodeUploadBlob(BlobVersion2, false, []byte("a"), []byte("b")), []byte(""), []byte(""))
	f.Add(EncodeUploadBlob(BlobVersion2, true, bytes.Repeat([]byte("ab"), 500), []byte(`{"version":3,"mappings":"AAAA"}`)), []byte("\x00"), []byte("\xff"))
	f.Add(append(EncodeUploadBlob(BlobVersion2, true, nil, nil), 0), []byte{}, []byte{})
	f.Add([]byte("posthog_error_tracking\x02\x00\x00\x00\x02\x00\x00\x00\x01(\xb5/\xfd"), []byte{}, []byte{})
	f.Fuzz(func(t *testing.T, blob, minified, sourceMap []byte) {
		gotMin, gotMap, err := DecodeUploadBlob(blob, limit)
		switch {
		case err != nil:
			if errors.Is(err, ErrInvalidUploadBlob) == errors.Is(err, ErrUploadBlobTooLarge) {
				t.Fatalf("error wraps neither or both sentinels: %v", err)
			}
		case len(gotMin)+len(gotMap) > limit:
			t.Fatalf("decoded %d bytes past the limit of %d", len(gotMin)+len(gotMap), limit)
		default:
			roundTrip(t, gotMin, gotMap, limit)
		}
		if len(minified)+len(sourceMap) <= limit {
			roundTrip(t, minified, sourceMap, limit)
		}
	})
}

func roundTrip(t *testing.T, minified, sourceMap []byte, limit int64) {
	t.Helper()
	for _, enc := range []struct {
		version int
		zstd    bool
	}{{BlobVersion1, false}, {BlobVersion2, false}, {BlobVersion2, true}} {
		m, s, err := DecodeUploadBlob(EncodeUploadBlob(enc.version, enc.zstd, minified, sourceMap), limit)
		if err != nil || !bytes.Equal(m, minified) || !bytes.Equal(s, sourceMap) {
			t.Fatalf("version %d zstd %v: round trip of %d+%d bytes: %v", enc.version, enc.zstd, len(minified), len(sourceMap), err)
		}
	}
}

// FuzzMapRef: finding the sourceMappingURL comment, resolving it and
// decoding data: URLs never panic; a found reference is a word that the
// source holds after the marker at the end of a line; a comment appended
// to any source is the one found; resolved URLs are http(s) with a host;
// and data: URLs round-trip, base64 or percent-encoded.
func FuzzMapRef(f *testing.F) {
	f.Add([]byte("var a=1;\n//# sourceMappingURL=app.js.map\n"), "app.js.map", "https://cdn.example/js/app.js", []byte(`{"version":3}`))
	f.Add([]byte(`var s="//# sourceMappingURL=" + x;`), "../maps/a.map?v=1#frag", "http://h/a/b.js", []byte{0, 1, 2})
	f.Add([]byte("//@ sourceMappingURL=data:application/json;base64,e30=\r\n"), "data:,%7B%7D", "https://h/x.js", []byte("é"))
	f.Add([]byte("//# sourceMappingURL=\n//# sourceMappingURL= a b"), "//other.example/m.map", "https://h/", []byte(""))
	f.Fuzz(func(t *testing.T, src []byte, ref, base string, payload []byte) {
		if found, how := mapRefFromComment(src); found != "" {
			if how != FoundComment && how != FoundLegacyComment {
				t.Fatalf("found %q as %q", found, how)
			}
			if strings.ContainsAny(found, " \t\r\n\f\v\"'") || !bytes.Contains(src, []byte("sourceMappingURL="+found)) {
				t.Fatalf("found %q, which is not a word after the marker in the source", found)
			}
		}
		if ref != "" && !strings.ContainsAny(ref, " \t\r\n\f\v\"'") {
			for _, marker := range []string{"\n//# sourceMappingURL=", "\n//@ sourceMappingURL="} {
				withComment := append(append(bytes.Clone(src), marker...), ref...)
				if got, _ := mapRefFromComment(withComment); got != ref {
					t.Fatalf("appended %q%s: found %q", marker, ref, got)
				}
			}
		}
		if b, err := url.Parse(base); err == nil {
			if mapURL, problem := resolveMapURL(b, ref); problem == "" {
				u, err := url.Parse(mapURL)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
					t.Fatalf("resolved %q against %q to %q, not an http(s) URL with a host and no fragment", ref, base, mapURL)
				}
			}
		}
		if isDataURL(ref) {
			_, _ = decodeDataURL(ref)
		}
		b64 := "data:application/json;charset=utf-8;base64," + base64.StdEncoding.EncodeToString(payload)
		if got, err := decodeDataURL(b64); err != nil || !bytes.Equal(got, payload) {
			t.Fatalf("base64 data: URL of %q: %q, %v", payload, got, err)
		}
		if utf8.Valid(payload) {
			escaped := "data:application/json," + url.PathEscape(string(payload))
			if got, err := decodeDataURL(escaped); err != nil || !bytes.Equal(got, payload) {
				t.Fatalf("percent-encoded data: URL of %q: %q, %v", payload, got, err)
			}
		}
	})
}

// FuzzScopeScan: the JavaScript scope scanner never panics and returns
// scopes inside the source, in order of opening, each named by a token
// before its body; innermost answers a scope that holds the offset; and
// byte offsets and line/column positions convert into each other.
func FuzzScopeScan(f *testing.F) {
	for _, s := range []string{
		"function a(){return b=>{throw 1}}",
		"var c=d=>e/2/f;x={m(){},n:function(){},o:async()=>{}}",
		"a(`${`}`}/re/`);/[/]/.test(s)?1:2",
		"class K{static #p=1;get g(){}}\n// }\n/* { */ 'a\\'{'",
		"é😀=function(){\n}\r\nlet u=(a,{b},[c])=>a",
		"f(()=>{", "}}}{{{", "`${", "/*", "\"",
	} {
		f.Add(s, len(s)/2)
	}
	f.Fuzz(func(t *testing.T, src string, off int) {
		x := scanScopes(src)
		for i, s := range x.scopes {
			if s.open < 0 || s.open > s.close || s.close > len(src) || s.head < 0 || s.head > s.open {
				t.Fatalf("scope %d %+v lies outside the %d-byte source", i, s, len(src))
			}
			if i > 0 && x.scopes[i-1].open > s.open {
				t.Fatalf("scopes out of order: %+v before %+v", x.scopes[i-1], s)
			}
		}
		if s, ok := x.innermost(off); ok && (off < s.open || off >= s.close) {
			t.Fatalf("innermost(%d) = %+v, which does not hold it", off, s)
		}
		if len(src) == 0 {
			return
		}
		off = ((off % len(src)) + len(src)) % len(src)
		for off > 0 && !utf8.RuneStart(src[off]) {
			off--
		}
		line, column := x.position(off)
		if back, ok := x.offset(line, column); !ok || back != off {
			t.Fatalf("offset %d is line %d column %d, which is offset %d (%v)", off, line, column, back, ok)
		}
	})
}
