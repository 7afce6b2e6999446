package symbols

import "time"

// SetClock makes u read the time from now, so tests can let a batch expire.
func (u *Uploads) SetClock(now func() time.Time) { u.now = now }
