// Command stacklens is a self-hosted error tracker in one binary.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `stacklens — a self-hosted error tracker for PostHog SDKs and Sentry SDKs (their events,
by the DSN on Project settings; sentry-cli's source-map uploads and releases, by its --url).

Usage:
  stacklens [serve] [flags]   run the server (the default)
  stacklens sourcemap <inject|upload|process> [flags] <dir>
                              prepare a JavaScript build's source maps and upload them
  stacklens backup <file>     write a consistent copy of the database to <file>, while it runs
  stacklens version           print the version

Run 'stacklens serve --help' for the server's flags and environment variables.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "stacklens:", err)
		}
		os.Exit(exitCode(err))
	}
}

var (
	errUsage     = errors.New("usage")
	errHelpShown = errors.New("help shown")
)

func exitCode(err error) int {
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		cfg, err := parseServeConfig(args, getenv, stderr)
		if errors.Is(err, errHelpShown) {
			return nil
		}
		if err != nil {
			return err
		}
		return serve(ctx, cfg, stdout, stderr)
	case "sourcemap", "sourcemaps":
		return runSourcemap(ctx, args, stdout, stderr, getenv)
	case "backup":
		return runBackup(ctx, args, stdout, stderr, getenv)
	case "version":
		fmt.Fprintln(stdout, "stacklens", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "unknown command %q\n\n%s", cmd, usage)
		return errUsage
	}
}
