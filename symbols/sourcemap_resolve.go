package symbols

import (
	"regexp"
	"strings"
)

// resolveSourceName turns a `sources` entry (already prefixed with the
// sourceRoot) into the name @jridgewell/trace-mapping reports for it when the
// map is loaded without a map URL. It ports @jridgewell/resolve-uri's
// resolve(input, "") so that our Position.Source agrees with the reference
// implementation byte for byte ("./a/../b.js" becomes "./b.js",
// "webpack://app/./x.js" becomes "webpack://app/x.js").
func resolveSourceName(input string) string {
	if input == "" {
		return ""
	}
	u := parseSourceURL(input)
	normalizeURLPath(&u)
	queryHash := u.query + u.hash
	switch u.kind {
	case urlHash, urlQuery:
		return queryHash
	case urlRelativePath:
		path := u.path[1:]
		if path == "" {
			if queryHash != "" {
				return queryHash
			}
			return "."
		}
		if isRelativeRef(input) && !isRelativeRef(path) {
			return "./" + path + queryHash
		}
		return path + queryHash
	case urlAbsolutePath:
		return u.path + queryHash
	default:
		return u.scheme + "//" + u.user + u.host + u.port + u.path + queryHash
	}
}

type urlKind int

// The order matters: kinds up to urlRelativePath keep leading "..".
const (
	urlEmpty urlKind = iota + 1
	urlHash
	urlQuery
	urlRelativePath
	urlAbsolutePath
	urlSchemeRelative
	urlAbsolute
)

type sourceURL struct {
	scheme, user, host, port, path, query, hash string
	kind                                        urlKind
}

var (
	schemePrefix = regexp.MustCompile(`^[\w+.-]+://`)
	urlParts     = regexp.MustCompile(`^([\w+.-]+:)//([^@/#?]*@)?(\[[^\]]+\]|[^:/#?]*)(:\d+)?(/[^#?]*)?(\?[^#]*)?(#.*)?`)
	fileURLParts = regexp.MustCompile(`(?i)^file:(?://([^/#?]*)?)?(/?[^#?]*)(\?[^#]*)?(#.*)?`)
)

func isRelativeRef(s string) bool {
	return s != "" && (s[0] == '.' || s[0] == '?' || s[0] == '#')
}

func parseAbsoluteURL(input string) sourceURL {
	m := urlParts.FindStringSubmatch(input)
	if m == nil {
		return sourceURL{path: "/", kind: urlAbsolute}
	}
	path := m[5]
	if path == "" {
		path = "/"
	}
	return sourceURL{scheme: m[1], user: m[2], host: m[3], port: m[4], path: path, query: m[6], hash: m[7], kind: urlAbsolute}
}

func parseSourceURL(input string) sourceURL {
	switch {
	case strings.HasPrefix(input, "//"):
		u := parseAbsoluteURL("http:" + input)
		u.scheme, u.kind = "", urlSchemeRelative
		return u
	case strings.HasPrefix(input, "/"):
		u := parseAbsoluteURL("http://foo.com" + input)
		u.scheme, u.host, u.kind = "", "", urlAbsolutePath
		return u
	case strings.HasPrefix(input, "file:"):
		m := fileURLParts.FindStringSubmatch(input)
		host := m[1]
		// resolve-uri's regexp refuses a host that looks like a Windows drive.
		if len(host) >= 2 && host[1] == ':' {
			host = ""
		}
		path := m[2]
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		return sourceURL{scheme: "file:", host: host, path: path, query: m[3], hash: m[4], kind: urlAbsolute}
	case schemePrefix.MatchString(input):
		return parseAbsoluteURL(input)
	}
	u := parseAbsoluteURL("http://foo.com/" + input)
	u.scheme, u.host = "", ""
	switch {
	case strings.HasPrefix(input, "?"):
		u.kind = urlQuery
	case strings.HasPrefix(input, "#"):
		u.kind = urlHash
	default:
		u.kind = urlRelativePath
	}
	return u
}

// normalizeURLPath removes "//", "." and resolvable ".." pieces.
func normalizeURLPath(u *sourceURL) {
	relative := u.kind <= urlRelativePath
	pieces := strings.Split(u.path, "/")
	kept := pieces[:1]
	positive := 0
	trailingSlash := false
	for _, piece := range pieces[1:] {
		if piece == "" {
			trailingSlash = true
			continue
		}
		trailingSlash = false
		if piece == "." {
			continue
		}
		if piece == ".." {
			if positive > 0 {
				trailingSlash = true
				positive--
				kept = kept[:len(kept)-1]
			} else if relative {
				kept = append(kept, piece)
			}
			continue
		}
		kept = append(kept, piece)
		positive++
	}
	var b strings.Builder
	for _, piece := range kept[1:] {
		b.WriteByte('/')
		b.WriteString(piece)
	}
	path := b.String()
	if path == "" || (trailingSlash && !strings.HasSuffix(path, "/..")) {
		path += "/"
	}
	u.path = path
}
