package main

import (
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/stacklens/stacklens/retention"
)

// retentionFlags adds the server's retention defaults (a project's own
// settings on its settings page win) and how often retention runs.
func retentionFlags(fs *flag.FlagSet, env func(name, def string) string, cfg *retention.Config) error {
	*cfg = retention.DefaultConfig()
	whole := func(name string, def, most int64) (int64, error) {
		v, err := strconv.ParseInt(env(name, strconv.FormatInt(def, 10)), 10, 64)
		if err != nil || v < 0 || v > most {
			return 0, fmt.Errorf("%s must be a whole number from 0 (keep forever) to %d", name, most)
		}
		return v, nil
	}
	d := cfg.Defaults
	days, err := whole("STACKLENS_RETENTION_DAYS", d.EventDays, retention.MaxDays)
	if err != nil {
		return err
	}
	perIssue, err := whole("STACKLENS_RETENTION_MAX_EVENTS_PER_ISSUE", d.MaxEventsPerIssue, retention.MaxEvents)
	if err != nil {
		return err
	}
	setDays, err := whole("STACKLENS_SYMBOL_SET_RETENTION_DAYS", d.SymbolSetDays, retention.MaxDays)
	if err != nil {
		return err
	}
	batch, err := whole("STACKLENS_RETENTION_BATCH_SIZE", int64(cfg.BatchSize), 100_000)
	if err != nil || batch == 0 {
		return fmt.Errorf("STACKLENS_RETENTION_BATCH_SIZE must be a whole number of rows from 1 to 100000")
	}
	interval, err := time.ParseDuration(env("STACKLENS_RETENTION_INTERVAL", cfg.Interval.String()))
	if err != nil || interval <= 0 {
		return fmt.Errorf("STACKLENS_RETENTION_INTERVAL must be a positive duration such as 1h or 30m")
	}
	fs.Int64Var(&cfg.Defaults.EventDays, "retention-days", days, "days events are kept, unless a project's settings say otherwise; 0 = forever (STACKLENS_RETENTION_DAYS)")
	fs.Int64Var(&cfg.Defaults.MaxEventsPerIssue, "retention-max-events-per-issue", perIssue, "events one issue keeps, the newest; older ones are deleted, its counts kept; 0 = no cap (STACKLENS_RETENTION_MAX_EVENTS_PER_ISSUE)")
	fs.Int64Var(&cfg.Defaults.SymbolSetDays, "symbol-set-retention-days", setDays, "days a symbol set no frame used is kept (never one a kept event still refers to); 0 = forever (STACKLENS_SYMBOL_SET_RETENTION_DAYS)")
	fs.IntVar(&cfg.BatchSize, "retention-batch-size", int(batch), "rows one retention transaction deletes at most; smaller keeps each pause of ingestion shorter (STACKLENS_RETENTION_BATCH_SIZE)")
	fs.DurationVar(&cfg.Interval, "retention-interval", interval, "time between retention passes; the first one runs this long after start (STACKLENS_RETENTION_INTERVAL)")
	return nil
}
