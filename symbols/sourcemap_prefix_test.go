package symbols

import (
	"testing"
)

// mapPrefixes are the things that may stand before a map's JSON.
var mapPrefixes = map[string]string{
	"bom":          "\xef\xbb\xbf",
	"xssi":         ")]}'\n",
	"xssi crlf":    ")]}'\r\n",
	"xssi, junk":   ")]}' anything\n",
	"bom and xssi": "\xef\xbb\xbf)]}'\n",
}

// A map with a BOM or the ")]}'" line is accepted by every reader of maps:
// the parser, the upload check (browser and API uploads), the chunk-id
// pairing of bulk uploads and the sourcesContent check.
func TestMapPrefixesAreAcceptedEverywhere(t *testing.T) {
	const plain = `{"version":3,"chunk_id":"c-1","sources":["a.js"],"sourcesContent":["boom()"],"names":[],"mappings":"AAAA"}`
	for name, prefix := range mapPrefixes {
		t.Run(name, func(t *testing.T) {
			data := []byte(prefix + plain)
			if got := string(StripMapPrefix(data)); got != plain {
				t.Errorf("StripMapPrefix = %q", got)
			}
			m, err := ParseSourceMap(data)
			if err != nil {
				t.Fatalf("ParseSourceMap: %v", err)
			}
			if pos, ok := m.Lookup(1, 0); !ok || pos.Source != "a.js" {
				t.Errorf("Lookup = %+v %v", pos, ok)
			}
			if _, err := ValidateUpload(data, []byte("boom()\n"), nil, 0); err != nil {
				t.Errorf("ValidateUpload: %v", err)
			}
			if got := MapChunkID(data); got != "c-1" {
				t.Errorf("MapChunkID = %q", got)
			}
			if !MapHasSourcesContent(data) {
				t.Error("MapHasSourcesContent = false")
			}
			if cleaned, problem := checkSourceMap(data); problem != "" || string(cleaned) != plain {
				t.Errorf("checkSourceMap = %q, %q", cleaned, problem)
			}
			// Swapped files are still recognised with the prefix.
			if _, err := ValidateUpload([]byte("boom()\n"), data, nil, 0); err == nil {
				t.Error("a JavaScript file given as the map was accepted")
			} else if want := "The two files seem swapped"; len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
				t.Errorf("swapped files: %v", err)
			}
		})
	}
	// Only a prefix is skipped: the same bytes later in the file are an error.
	if _, err := ParseSourceMap([]byte(" )]}'\n" + plain)); err == nil {
		t.Error("a ')]}'' after a space was accepted")
	}
}
