package symbols

import "bytes"

// StripMapPrefix removes what may stand before a source map's JSON: a
// UTF-8 byte order mark (editors and some build tools write one) and the
// ")]}'" line the source map spec lets servers prepend against XSSI (with
// or without a BOM before it). Every path that reads a map — fetched,
// uploaded in the browser or through the API, read by the CLI — calls it,
// so a map is accepted or refused the same way whichever way it arrives.
func StripMapPrefix(data []byte) []byte {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if bytes.HasPrefix(data, []byte(")]}'")) {
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			return data[i+1:]
		}
		return data[len(data):]
	}
	return data
}
