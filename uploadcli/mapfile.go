package uploadcli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/stacklens/stacklens/symbols"
	"github.com/stacklens/stacklens/symbols/mappings"
)

// SourceMap is a source map as posthog-cli holds it: its own three fields
// (written first, in this order) and every other key.
type SourceMap struct {
	ReleaseID *string
	ChunkID   *string
	DebugID   *string
	Fields    map[string]any
}

// ParseSourceMap reads a source map file. Like posthog-cli it accepts
// "chunkId" for chunk_id and refuses non-string values for its own fields.
// A BOM or ")]}'" line before the JSON is dropped, as the server drops it;
// Bytes writes the map without it.
func ParseSourceMap(data []byte) (*SourceMap, error) {
	v, err := decodeJSON(symbols.StripMapPrefix(data))
	if err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not a JSON object")
	}
	m := &SourceMap{Fields: obj}
	if _, both := obj["chunkId"]; both {
		if _, dup := obj["chunk_id"]; dup {
			return nil, fmt.Errorf("both chunk_id and chunkId are set")
		}
		obj["chunk_id"] = obj["chunkId"]
		delete(obj, "chunkId")
	}
	for key, dst := range map[string]**string{"release_id": &m.ReleaseID, "chunk_id": &m.ChunkID, "debugId": &m.DebugID} {
		raw, present := obj[key]
		if !present {
			continue
		}
		delete(obj, key)
		switch raw := raw.(type) {
		case nil:
		case string:
			*dst = &raw
		default:
			return nil, fmt.Errorf("%s is not a string", key)
		}
	}
	return m, nil
}

// Bytes is the map as posthog-cli writes it (serde_json, compact).
func (m *SourceMap) Bytes() []byte {
	var b strings.Builder
	b.WriteByte('{')
	first := true
	sep := func() {
		if !first {
			b.WriteByte(',')
		}
		first = false
	}
	for _, f := range []struct {
		key string
		val *string
	}{{"release_id", m.ReleaseID}, {"chunk_id", m.ChunkID}, {"debugId", m.DebugID}} {
		if f.val != nil {
			sep()
			writeJSONString(&b, f.key)
			b.WriteByte(':')
			writeJSONString(&b, *f.val)
		}
	}
	rest := &strings.Builder{}
	writeJSONValue(rest, m.Fields)
	if inner := rest.String(); inner != "{}" {
		sep()
		b.WriteString(inner[1 : len(inner)-1])
	}
	b.WriteByte('}')
	return []byte(b.String())
}

// shiftForPrepend rewrites the map for text of shift columns (without a line
// break) put in front of a generated file of the given number of lines, the
// way posthog-cli does: decoded and re-encoded by rust-sourcemap, whose output
// keys replace the old ones and whose absent keys keep their old values.
func (m *SourceMap) shiftForPrepend(shift uint32, lines int) error {
	f := m.Fields
	if _, ok := f["sections"]; ok {
		return fmt.Errorf("index source maps (with sections) are not supported")
	}
	if rm, ok := f["rangeMappings"].(string); ok && rm != "" {
		return fmt.Errorf("source maps with rangeMappings are not supported")
	}
	sources, err := optionalStrings(f, "sources")
	if err != nil {
		return err
	}
	contents, err := optionalStrings(f, "sourcesContent")
	if err != nil {
		return err
	}
	mappingsField, err := optionalString(f, "mappings")
	if err != nil {
		return err
	}
	sourceRoot, err := optionalString(f, "sourceRoot")
	if err != nil {
		return err
	}
	names := crateNames(f["names"])
	decoded, err := mappings.Decode(derefOr(mappingsField, ""), len(sources), len(names))
	if err != nil {
		return err
	}
	shifted, err := shiftMappings(decoded, shift, lines)
	if err != nil {
		return err
	}

	out := map[string]any{
		"version":  json.Number("3"),
		"sources":  stringsOrEmpty(sources),
		"names":    names,
		"mappings": mappings.Encode(shifted),
	}
	if file, present := f["file"]; present && file != nil {
		if s, ok := file.(string); ok {
			out["file"] = s
		} else {
			out["file"] = "<invalid>"
		}
	}
	if sourceRoot != nil {
		out["sourceRoot"] = *sourceRoot
	}
	if anySet(contents) {
		list := make([]any, len(contents))
		for i, c := range contents {
			if c != nil {
				list[i] = *c
			}
		}
		out["sourcesContent"] = list
	}
	if il, ok := f["ignoreList"].([]any); ok && len(il) > 0 {
		out["ignoreList"] = il
	}
	for k, v := range f {
		if _, replaced := out[k]; !replaced && k != "sections" {
			out[k] = v
		}
	}
	m.Fields = out
	return nil
}

func optionalString(f map[string]any, key string) (*string, error) {
	switch v := f[key].(type) {
	case nil:
		return nil, nil
	case string:
		return &v, nil
	default:
		return nil, fmt.Errorf("%s is not a string", key)
	}
}

// optionalStrings reads an array of strings or nulls.
func optionalStrings(f map[string]any, key string) ([]*string, error) {
	switch v := f[key].(type) {
	case nil:
		return nil, nil
	case []any:
		out := make([]*string, len(v))
		for i, e := range v {
			switch e := e.(type) {
			case nil:
			case string:
				out[i] = &e
			default:
				return nil, fmt.Errorf("%s[%d] is not a string", key, i)
			}
		}
		return out, nil
	default:
		return nil, fmt.Errorf("%s is not an array", key)
	}
}

// crateNames converts names as rust-sourcemap does: numbers become their
// text, anything else that is not a string becomes "".
func crateNames(v any) []string {
	list, _ := v.([]any)
	out := make([]string, len(list))
	for i, e := range list {
		switch e := e.(type) {
		case string:
			out[i] = e
		case json.Number:
			out[i] = serdeNumber(e)
		}
	}
	return out
}

func stringsOrEmpty(list []*string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = derefOr(s, "")
	}
	return out
}

func anySet(list []*string) bool {
	for _, s := range list {
		if s != nil {
			return true
		}
	}
	return false
}

func derefOr(s *string, def string) string {
	if s == nil {
		return def
	}
	return *s
}
