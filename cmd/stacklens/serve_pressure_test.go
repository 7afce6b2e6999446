package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stacklens/stacklens/db"
)

func TestPressureSettings(t *testing.T) {
	cfg, err := parseServeConfig(nil, noEnv, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Pressure.Inbox != db.DefaultInboxLimits() || cfg.Pressure.RateLimit != 1000 || cfg.Pressure.RateBurst != 10000 {
		t.Fatalf("defaults %+v", cfg.Pressure)
	}
	env := map[string]string{"STACKLENS_INBOX_MAX_EVENTS": "50", "STACKLENS_INBOX_MAX_BYTES": "0", "STACKLENS_MIN_FREE_DISK_BYTES": "1024", "STACKLENS_RATE_LIMIT": "0"}
	cfg, err = parseServeConfig([]string{"--rate-limit-burst", "7"}, func(k string) string { return env[k] }, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	want := db.InboxLimits{MaxEvents: 50, MaxBytes: 0, MinFreeDiskBytes: 1024}
	if cfg.Pressure.Inbox != want || !cfg.Pressure.defaultLimit().Unlimited() || cfg.Pressure.RateBurst != 7 {
		t.Fatalf("from env and flags: %+v", cfg.Pressure)
	}
	for _, bad := range []string{"-1", "many"} {
		_, err := parseServeConfig(nil, func(k string) string { return map[string]string{"STACKLENS_INBOX_MAX_EVENTS": bad}[k] }, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "STACKLENS_INBOX_MAX_EVENTS") {
			t.Errorf("STACKLENS_INBOX_MAX_EVENTS=%s: %v, want an error naming it", bad, err)
		}
	}
}
