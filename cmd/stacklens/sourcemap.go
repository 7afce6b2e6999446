package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/stacklens/stacklens/uploadcli"
)

const sourcemapHelp = `Usage: stacklens sourcemap <command> [flags] [directory...]

Prepares a JavaScript build for symbolication, speaking posthog-cli's protocol
(so 'posthog-cli sourcemap …' works against stacklens too):

  inject    give every minified .js/.mjs/.cjs file that has a source map a chunk
            id (a snippet in front, '//# chunkId=<id>' at the end, the map
            shifted and tagged with "chunk_id"); files that have one keep it
  upload    upload every injected file with its map to the server
  process   inject, then upload

Directories are searched recursively; give them as arguments or with
--directory. Run 'stacklens sourcemap <command> --help' for its flags.
Exit status: 0 done, 1 failed, 2 bad usage.
`

func runSourcemap(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, sourcemapHelp)
		return errUsage
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, sourcemapHelp)
		return nil
	case "inject", "upload", "process":
	default:
		fmt.Fprintf(stderr, "unknown sourcemap command %q\n\n%s", cmd, sourcemapHelp)
		return errUsage
	}
	opts, err := parseSourcemapFlags(cmd, args, getenv, stderr)
	if errors.Is(err, errHelpShown) {
		return nil
	}
	if err != nil {
		return err
	}
	out := &sourcemapOutput{stdout: stdout, stderr: stderr, tty: isTerminal(stderr)}
	switch cmd {
	case "inject":
		_, err = injectCommand(opts, out)
	case "upload":
		err = uploadCommand(ctx, opts, out, nil)
	case "process":
		var res *uploadcli.InjectResult
		if res, err = injectCommand(opts, out); err == nil {
			err = uploadCommand(ctx, opts, out, res.Pairs)
		}
	}
	return err
}

// sourcemapOutput prints results on stdout, warnings on stderr, and progress
// on stderr only when it is a terminal (CI logs stay clean).
type sourcemapOutput struct {
	stdout, stderr io.Writer
	tty            bool
}

func (o *sourcemapOutput) skipped(list []uploadcli.Skipped) {
	for _, s := range list {
		fmt.Fprintf(o.stderr, "skipped %s: %s\n", s.Path, s.Reason)
	}
}

func injectCommand(opts sourcemapOptions, out *sourcemapOutput) (*uploadcli.InjectResult, error) {
	res, err := uploadcli.Inject(opts.Dirs, uploadcli.NewChunkID)
	if res != nil {
		out.skipped(res.Skipped)
	}
	if errors.Is(err, uploadcli.ErrNoFiles) {
		return nil, fmt.Errorf("%w under %s", err, strings.Join(opts.Dirs, ", "))
	}
	if err != nil {
		return nil, err
	}
	for _, p := range res.Injected {
		id, _ := uploadcli.ChunkIDOf(p.Source)
		fmt.Fprintf(out.stdout, "injected %s into %s (map %s)\n", id, p.JSPath, p.MapPath)
	}
	for _, p := range res.Kept {
		id, _ := uploadcli.ChunkIDOf(p.Source)
		fmt.Fprintf(out.stdout, "kept %s in %s (already injected)\n", id, p.JSPath)
	}
	fmt.Fprintf(out.stdout, "inject: %d injected, %d already injected, %d skipped\n", len(res.Injected), len(res.Kept), len(res.Skipped))
	return res, nil
}

// uploadCommand uploads pairs (those inject just wrote, or read from disk).
func uploadCommand(ctx context.Context, opts sourcemapOptions, out *sourcemapOutput, pairs []*uploadcli.Pair) error {
	if pairs == nil {
		found, skipped, err := uploadcli.FindPairs(opts.Dirs)
		if err != nil {
			return err
		}
		out.skipped(skipped)
		if len(found) == 0 {
			return fmt.Errorf("%w under %s", uploadcli.ErrNoFiles, strings.Join(opts.Dirs, ", "))
		}
		pairs = found
	}
	uploads, skipped, err := uploadcli.BuildUploads(pairs, opts.Release)
	if err != nil {
		return err
	}
	out.skipped(skipped)
	if len(uploads) == 0 {
		return fmt.Errorf("nothing to upload under %s: every source map was skipped", strings.Join(opts.Dirs, ", "))
	}
	client := &uploadcli.Client{
		Host:           opts.Host,
		APIKey:         opts.APIKey,
		Project:        opts.Project,
		UserAgent:      "stacklens/" + version,
		HTTP:           &http.Client{Timeout: 5 * time.Minute},
		Retries:        2,
		RetryWait:      500 * time.Millisecond,
		Force:          opts.Force,
		SkipOnConflict: opts.SkipOnConflict,
	}
	var progress func(done, total int)
	if out.tty {
		progress = func(done, total int) {
			fmt.Fprintf(out.stderr, "\ruploading %d/%d", done, total)
			if done == total {
				fmt.Fprintln(out.stderr)
			}
		}
	}
	sum, err := client.Upload(ctx, uploads, opts.BatchSize, progress)
	if err != nil {
		return err
	}
	for _, u := range uploads {
		fmt.Fprintf(out.stdout, "uploaded %s (chunk id %s, %d bytes)\n", u.Path, u.ChunkID, len(u.Data))
	}
	fmt.Fprintf(out.stdout, "upload: %d sent, %d already on the server\n", sum.Uploaded, sum.AlreadyPresent)
	if opts.DeleteAfter {
		for _, p := range pairs {
			if err := os.Remove(p.MapPath); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("delete %s: %w", p.MapPath, err)
			}
		}
	}
	return nil
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
