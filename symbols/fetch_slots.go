package symbols

import (
	"context"
	"net/url"
	"strings"
	"sync"
)

// fetchSlots bounds how many fetches run at once, in all and per host name.
// A host that accepts connections and never answers holds at most perHost
// slots until its timeouts end them; fetches from other hosts go on.
type fetchSlots struct {
	mu      sync.Mutex
	total   int
	perHost int
	busy    int
	hosts   map[string]int
	// freed is closed, and replaced, whenever a slot is given back, waking
	// every waiter to check again.
	freed chan struct{}
}

func newFetchSlots(total, perHost int) *fetchSlots {
	return &fetchSlots{total: total, perHost: perHost, hosts: map[string]int{}, freed: make(chan struct{})}
}

// acquire waits until a slot for host is free or ctx ends, and returns the
// function that gives the slot back.
func (s *fetchSlots) acquire(ctx context.Context, host string) (release func(), err error) {
	for {
		s.mu.Lock()
		if s.busy < s.total && s.hosts[host] < s.perHost {
			s.busy++
			s.hosts[host]++
			s.mu.Unlock()
			var once sync.Once
			return func() { once.Do(func() { s.release(host) }) }, nil
		}
		wait := s.freed
		s.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (s *fetchSlots) release(host string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.busy--
	if s.hosts[host]--; s.hosts[host] <= 0 {
		delete(s.hosts, host)
	}
	close(s.freed)
	s.freed = make(chan struct{})
}

// hostOf is the host name a fetch counts against (without the port: one
// machine is one host however many ports it listens on).
func hostOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}
