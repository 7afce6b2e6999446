package event

import (
	"encoding/json"
	"strings"
	"time"
)

// referenceParsePostHog is ParsePostHog as it was written before it scanned
// events itself: encoding/json into wireEvent, every property decoded into
// a map, $exception_list decoded generically (decodeAny) and read by
// exceptionFromWire. It defines what ParsePostHog must return; the fuzz
// target and the tests compare the two.
func referenceParsePostHog(raw json.RawMessage, receivedAt time.Time, withProperties bool) (Event, error) {
	w, err := decodePostHogHead(raw)
	if err != nil {
		return Event{}, err
	}
	props := w.props.all
	str := func(key string) string {
		var s flexString
		if raw, ok := props[key]; ok {
			_ = json.Unmarshal(raw, &s)
		}
		return strings.TrimSpace(string(s))
	}
	e := Event{
		UUID:             strings.TrimSpace(string(w.uuid)),
		DistinctID:       firstNonEmpty(string(w.distinctID), str("distinct_id")),
		Timestamp:        receivedAt.UTC(),
		Fingerprint:      clientFingerprint(props["$exception_fingerprint"]),
		Level:            str("$exception_level"),
		IssueName:        str("$issue_name"),
		IssueDescription: str("$issue_description"),
		URL:              str("$current_url"),
		Lib:              str("$lib"),
		LibVersion:       str("$lib_version"),
		Release:          firstNonEmpty(str("$release_id"), str("$app_version")),
		SessionID:        str("$session_id"),
		Browser:          withVersion(str("$browser"), str("$browser_version")),
		OS:               withVersion(str("$os"), str("$os_version")),
		Environment:      firstNonEmpty(str("$environment"), str("environment")),
	}
	if t, ok := parseTime(string(w.timestamp)); ok {
		e.Timestamp = t
	}
	for _, item := range asList(decodeAny(props["$exception_list"])) {
		if m, ok := item.(map[string]any); ok {
			e.Exceptions = append(e.Exceptions, exceptionFromWire(m))
		}
	}
	if len(e.Exceptions) == 0 {
		e.Exceptions = []Exception{legacyException(str)}
	}
	if withProperties {
		e.Properties = encodeProperties(props)
	}
	e.Normalize()
	return e, nil
}
