package db

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// errNoStatfs says free space cannot be measured here (statfs is not wired
// up for this system, or the database is a PostgreSQL server's, on a disk
// its operator watches): checks that need the figure are skipped.
var errNoStatfs = errors.New("free disk space cannot be measured on this system")

// dir is the directory holding the database file (and its WAL).
func (d *DB) dir() string {
	return filepath.Dir(d.path)
}

// FreeDiskBytes measures the free space, available to this process, on the
// file system that holds the database.
func (d *DB) FreeDiskBytes() (uint64, error) {
	if d.dialect.postgres() {
		return 0, errNoStatfs
	}
	free, err := freeBytes(d.dir())
	if err != nil {
		return 0, fmt.Errorf("measure free disk space under %s: %w", d.dir(), err)
	}
	return free, nil
}

// CheckDiskWritable writes, syncs and removes a small file beside the
// database: a read-only remount or a full disk fails here, where SQLite
// would only fail at the next commit.
func (d *DB) CheckDiskWritable() error {
	if d.dialect.postgres() {
		return nil // the server's own disk; a commit that fails there still answers 503
	}
	f, err := os.CreateTemp(d.dir(), ".stacklens-write-check-*")
	if err != nil {
		return fmt.Errorf("create a file beside the database in %s: %w", d.dir(), err)
	}
	name := f.Name()
	defer os.Remove(name)
	if _, err := f.Write([]byte("ok\n")); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", name, err)
	}
	return nil
}
