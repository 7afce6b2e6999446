package db

import (
	"database/sql"
	"fmt"
	"sync"
	"time"
)

// checkpointer copies SQLite's write-ahead log back into the database file
// from a connection of its own. Left to SQLite, the commit that takes the
// log past wal_autocheckpoint pages does it: it reads every page back from
// the log and writes it into the file, on the one writer connection, so the
// inbox's commits and the pipeline's batches waited for it (a third of the
// writer's reads and writes were checkpoint copies). Here it runs beside
// them, every checkpointEvery, PASSIVE: it never waits for readers or the
// writer, and copies what no reader still needs. The writer checkpoints
// itself again only past writerCheckpointPages, should this fall behind.
type checkpointer struct {
	db      *sql.DB
	stop    chan struct{}
	done    chan struct{}
	stopped sync.Once // DB.Close may be called more than once
}

const (
	checkpointEvery = 100 * time.Millisecond
	// writerCheckpointPages is the writer's own wal_autocheckpoint: 64 MiB
	// of 4 KiB pages, far above what the log holds between two checkpoints.
	writerCheckpointPages = 16384
)

func startCheckpointer(path string) (*checkpointer, error) {
	// synchronous(FULL), as the writer: the copies into the file are synced
	// before the log is reused.
	conn, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)")
	if err != nil {
		return nil, fmt.Errorf("open %s to checkpoint it: %w", path, err)
	}
	conn.SetMaxOpenConns(1)
	conn.SetMaxIdleConns(1)
	conn.SetConnMaxLifetime(0)
	c := &checkpointer{db: conn, stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c, nil
}

func (c *checkpointer) run() {
	defer close(c.done)
	tick := time.NewTicker(checkpointEvery)
	defer tick.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-tick.C:
			// A checkpoint that fails (a full disk, say) is tried again at the
			// next tick; the log keeps every committed page meanwhile, and the
			// writer checkpoints itself past writerCheckpointPages.
			var busy, logPages, copied int
			_ = c.db.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logPages, &copied)
		}
	}
}

// close stops the checkpoints; a nil checkpointer (PostgreSQL) has none.
func (c *checkpointer) close() {
	if c == nil {
		return
	}
	c.stopped.Do(func() {
		close(c.stop)
		<-c.done
		c.db.Close()
	})
}
