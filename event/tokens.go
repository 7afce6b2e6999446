package event

// Tokens returns the one project token that all events of a request carry.
// A request with events for several projects, or an event without a
// token, is refused with a 401 *Error. A request with no events has no
// token and no error.
func Tokens(evs []RawEvent) (token string, err error) {
	for i, ev := range evs {
		switch {
		case ev.Token == "":
			return "", unauthorized("event %d has no project token (api_key, token or properties.token)", i)
		case token == "":
			token = ev.Token
		case ev.Token != token:
			return "", unauthorized("events for several projects in one request")
		}
	}
	return token, nil
}
