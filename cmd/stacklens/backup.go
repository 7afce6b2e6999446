package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/stacklens/stacklens/db"
)

// runBackup copies the database (events, issues, symbol sets: everything)
// into one new file. It is safe while the server runs: SQLite writes a
// consistent snapshot.
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbPath := getenv("STACKLENS_DB")
	if dbPath == "" {
		dbPath = "./stacklens.db"
	}
	fs.StringVar(&dbPath, "db", dbPath, "SQLite database file to back up (STACKLENS_DB)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: stacklens backup [--db stacklens.db] <file>\n\nWrites a consistent copy of the database to <file>, which must not exist yet.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	if getenv("STACKLENS_DATABASE_URL") != "" {
		return errors.New("STACKLENS_DATABASE_URL is set: a PostgreSQL database is backed up with pg_dump (see the README), not with stacklens backup")
	}
	dest := fs.Arg(0)
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("%s exists already: choose a new file name", dest)
	}
	if _, err := os.Stat(dbPath); err != nil {
		return fmt.Errorf("no database at %s: %w", dbPath, err)
	}
	store, err := db.Open(ctx, dbPath)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Backup(ctx, dest); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s to %s\n", dbPath, dest)
	return nil
}
