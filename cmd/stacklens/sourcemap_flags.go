package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

type sourcemapOptions struct {
	Dirs           []string
	Host           string
	APIKey         string
	Project        string
	Release        string
	BatchSize      int
	DeleteAfter    bool
	Force          bool
	SkipOnConflict bool
}

// dirList is a repeatable --directory flag.
type dirList []string

func (d *dirList) String() string     { return strings.Join(*d, ",") }
func (d *dirList) Set(v string) error { *d = append(*d, v); return nil }

// parseSourcemapFlags reads flags and directories in any order (posthog-cli
// users write 'process dist --host …'). The environment gives the defaults:
// posthog-cli's POSTHOG_CLI_* names first, then STACKLENS_*.
func parseSourcemapFlags(cmd string, args []string, getenv func(string) string, stderr io.Writer) (sourcemapOptions, error) {
	env := func(def string, names ...string) string {
		for _, n := range names {
			if v := getenv(n); v != "" {
				return v
			}
		}
		return def
	}
	var o sourcemapOptions
	var dirs dirList
	fs := flag.NewFlagSet("sourcemap "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(&dirs, "directory", "a directory of the build (repeatable; also given as arguments)")
	fs.Var(&dirs, "d", "short for --directory")
	uploads := cmd != "inject"
	if uploads {
		fs.StringVar(&o.Host, "host", env("http://127.0.0.1:8000", "POSTHOG_CLI_HOST", "STACKLENS_HOST"), "server URL (POSTHOG_CLI_HOST, STACKLENS_HOST)")
		fs.StringVar(&o.APIKey, "api-key", env("", "POSTHOG_CLI_API_KEY", "POSTHOG_CLI_TOKEN", "STACKLENS_API_KEY"), "personal API key (POSTHOG_CLI_API_KEY, POSTHOG_CLI_TOKEN, STACKLENS_API_KEY)")
		fs.StringVar(&o.Project, "project", env("1", "POSTHOG_CLI_PROJECT_ID", "POSTHOG_CLI_ENV_ID", "STACKLENS_PROJECT_ID"), "project id (POSTHOG_CLI_PROJECT_ID, POSTHOG_CLI_ENV_ID, STACKLENS_PROJECT_ID)")
		fs.StringVar(&o.Release, "release", env("", "STACKLENS_RELEASE"), "release id to attach to the uploaded symbol sets (STACKLENS_RELEASE)")
		fs.IntVar(&o.BatchSize, "batch-size", 50, "symbol sets per bulk_start_upload request")
		fs.BoolVar(&o.DeleteAfter, "delete-after", false, "delete the .map files once uploaded (so they are not deployed)")
		fs.BoolVar(&o.Force, "force", false, "replace symbol sets the server already holds with different content")
		fs.BoolVar(&o.SkipOnConflict, "skip-on-conflict", false, "skip symbol sets the server already holds with different content")
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: stacklens sourcemap %s [flags] [directory...]\n\n", cmd)
		fs.PrintDefaults()
	}
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return o, errHelpShown
			}
			return o, errUsage // the flag package has printed the problem and the usage
		}
		if fs.NArg() == 0 {
			break
		}
		dirs = append(dirs, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	o.Dirs = dirs
	if len(o.Dirs) == 0 {
		fmt.Fprintf(stderr, "stacklens sourcemap %s: no directory given\n", cmd)
		fs.Usage()
		return o, errUsage
	}
	if uploads {
		if o.APIKey == "" {
			fmt.Fprintf(stderr, "stacklens sourcemap %s: no API key: pass --api-key or set POSTHOG_CLI_API_KEY\n", cmd)
			return o, errUsage
		}
		if o.BatchSize <= 0 {
			fmt.Fprintf(stderr, "stacklens sourcemap %s: --batch-size must be positive\n", cmd)
			return o, errUsage
		}
	}
	return o, nil
}
