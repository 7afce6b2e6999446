package symbols

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// checkSourceMap is the cheap check the fetcher runs before handing a map
// on: JSON object, "version": 3, and "mappings" (a string) or "sections"
// (an array). problem is "" or what is wrong, in words.
func checkSourceMap(data []byte) (cleaned []byte, problem string) {
	data = StripMapPrefix(data)
	var m struct {
		Version  json.RawMessage `json:"version"`
		Mappings json.RawMessage `json:"mappings"`
		Sections json.RawMessage `json:"sections"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		if _, isType := err.(*json.UnmarshalTypeError); isType {
			return nil, "it is JSON but not an object"
		}
		return nil, fmt.Sprintf("it is not JSON (%v); it starts with %q", err, preview(data, 40))
	}
	switch v := strings.TrimSpace(string(m.Version)); {
	case v == "" || v == "null":
		return nil, `it has no "version"`
	case v != "3":
		return nil, fmt.Sprintf(`"version" is %s; only version 3 is supported`, preview([]byte(v), 20))
	}
	hasMappings, hasSections := isJSONValue(m.Mappings), isJSONValue(m.Sections)
	switch {
	case !hasMappings && !hasSections:
		return nil, `it has neither "mappings" nor "sections"`
	case hasMappings && m.Mappings[0] != '"':
		return nil, `"mappings" is not a string`
	case !hasMappings && m.Sections[0] != '[':
		return nil, `"sections" is not an array`
	}
	return data, ""
}

// isJSONValue is true for a present, non-null raw value.
func isJSONValue(raw json.RawMessage) bool {
	return len(raw) > 0 && string(raw) != "null"
}

// preview is the start of data for a message, cut at a rune boundary.
func preview(data []byte, n int) string {
	if len(data) > n {
		data = data[:n]
		for len(data) > 0 && !utf8.Valid(data) {
			data = data[:len(data)-1]
		}
	}
	return string(data)
}

// MapHasSourcesContent says whether a source map carries the text of at
// least one of its sources (in "sourcesContent", or in any section of an
// index map). Without it stacklens can resolve positions but show no code:
// the caller reports missing_sources_content when it needs context.
func MapHasSourcesContent(data []byte) bool {
	var m struct {
		SourcesContent []json.RawMessage `json:"sourcesContent"`
		Sections       []struct {
			Map json.RawMessage `json:"map"`
		} `json:"sections"`
	}
	if json.Unmarshal(StripMapPrefix(data), &m) != nil {
		return false
	}
	for _, content := range m.SourcesContent {
		if isJSONValue(content) && string(content) != `""` {
			return true
		}
	}
	for _, section := range m.Sections {
		if isJSONValue(section.Map) && MapHasSourcesContent(section.Map) {
			return true
		}
	}
	return false
}
