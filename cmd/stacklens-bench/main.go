// Command stacklens-bench measures a stacklens server: it generates capture
// load, serves a no-op baseline, fills a database with realistic data and
// times the issue pages. BENCHMARKS.md shows the commands behind every number.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/internal/bench"
)

const usage = `stacklens-bench measures a stacklens server.

  stacklens-bench load  [flags]   post generated posthog-js exceptions to a server; report accepted and processed events/s
  stacklens-bench noop  [flags]   serve the no-op baseline: decode capture bodies like stacklens, store nothing
  stacklens-bench fill  [flags]   write realistic events, issues and symbol sets straight into a database file
  stacklens-bench pages [flags]   sign in and time /issues (default, by occurrences, search) and /issues/{id}

Run a subcommand with -h for its flags. Run it from the repository root (it reads testdata/fixtures).`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "load":
		err = runLoad(ctx, os.Args[2:])
	case "noop":
		err = runNoop(ctx, os.Args[2:])
	case "fill":
		err = runFill(ctx, os.Args[2:])
	case "pages":
		err = runPages(ctx, os.Args[2:])
	case "help", "-h", "--help":
		fmt.Println(usage)
		return
	default:
		err = fmt.Errorf("unknown subcommand %q\n\n%s", os.Args[1], usage)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "stacklens-bench:", err)
		os.Exit(1)
	}
}

func runLoad(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	var cfg bench.LoadConfig
	urls := fs.String("url", "http://127.0.0.1:8000", "the stacklens server, or several nodes on one database separated by commas: batches go to each in turn")
	fs.StringVar(&cfg.Token, "token", "phc_bench", "the project's capture token")
	fs.IntVar(&cfg.Concurrency, "concurrency", 64, "clients posting at once")
	fs.IntVar(&cfg.BatchSize, "batch", 50, "events per /batch/ request")
	fs.Int64Var(&cfg.Events, "events", 100_000, "events to send (0: until -duration)")
	fs.DurationVar(&cfg.Duration, "duration", 0, "stop sending after this long (0: until -events)")
	fs.Float64Var(&cfg.Rate, "rate", 0, "offer this many events per second in all, steadily (0: as fast as the clients can send); the report's inbox depth tells whether the server keeps up")
	fs.IntVar(&cfg.Issues, "issues", 5_000, "distinct issues the events group into")
	fs.IntVar(&cfg.Users, "users", 1_000, "distinct users over all events")
	fs.BoolVar(&cfg.Gzip, "gzip", false, "gzip the bodies")
	fs.BoolVar(&cfg.Drain, "drain", true, "after sending, wait until the server's inbox is empty and report processed events/s")
	pids := fs.String("pid", "", "the server's process id, or several separated by commas: report each one's resident memory idle and at peak")
	databaseURL := fs.String("database-url", "", "the PostgreSQL database the servers share: the drain counts its inbox there instead of adding up each node's /readyz (which a node recounts only every few seconds)")
	bundleAddr := fs.String("bundle-addr", "127.0.0.1:0", "where to serve the fixture bundle the frames point at (the server must be allowed to fetch from it: STACKLENS_FETCH_ALLOW_PRIVATE=true on loopback)")
	baseline := fs.Bool("baseline", true, "first send the same load to an in-process no-op server that decodes the bodies and stores nothing")
	fixtures := fs.String("fixtures", "testdata/fixtures", "the recorded fixtures directory")
	run := fs.Uint("run", 0, "run number, part of every uuid (0: from the clock), so runs against one database never collide")
	fs.Parse(args)
	cfg.URLs = strings.Split(*urls, ",")
	for p := range strings.SplitSeq(*pids, ",") {
		if p == "" {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return fmt.Errorf("-pid: %q is not a process id", p)
		}
		cfg.PIDs = append(cfg.PIDs, pid)
	}
	if *databaseURL != "" {
		store, err := openDatabase(ctx, "", *databaseURL)
		if err != nil {
			return err
		}
		defer store.Close()
		cfg.InboxDepth = func(ctx context.Context) (int64, error) {
			n, err := store.CountInbox(ctx)
			return int64(n), err
		}
	}
	cfg.Run = uint32(*run)
	if cfg.Run == 0 {
		cfg.Run = uint32(time.Now().Unix())
	}
	templates, err := bench.LoadTemplates(*fixtures)
	if err != nil {
		return err
	}
	bundleURL, closeBundle, err := serve(*bundleAddr, bench.BundleHandler(*fixtures+"/bundles/posthog-browser"))
	if err != nil {
		return err
	}
	defer closeBundle()
	cfg.BundleURL = bundleURL + "/app.js"
	var baselineRate float64
	if *baseline {
		noop := bench.NewNoop()
		noopURL, closeNoop, err := serve("127.0.0.1:0", noop)
		if err != nil {
			return err
		}
		nc := cfg
		nc.URLs, nc.Drain, nc.PIDs = []string{noopURL}, false, nil
		res, err := bench.Load(ctx, nc, templates)
		closeNoop()
		if err != nil {
			return err
		}
		fmt.Printf("no-op baseline (%s):\n%s\n", noopURL, res)
		baselineRate = res.AcceptedPerSecond()
	}
	res, err := bench.Load(ctx, cfg, templates)
	fmt.Printf("stacklens (%s):\n%s", strings.Join(cfg.URLs, ", "), res)
	if baselineRate > 0 {
		fmt.Printf("stacklens accepted %.2f as many events/s as the no-op baseline\n", res.AcceptedPerSecond()/baselineRate)
	}
	return err
}

func runNoop(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("noop", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:8001", "listen address")
	fs.Parse(args)
	noop := bench.NewNoop()
	u, closeFn, err := serve(*addr, noop)
	if err != nil {
		return err
	}
	defer closeFn()
	fmt.Printf("no-op baseline listening on %s; Ctrl-C stops it\n", u)
	<-ctx.Done()
	fmt.Printf("decoded %d $exception events\n", noop.Events())
	return nil
}

func runFill(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("fill", flag.ExitOnError)
	path := fs.String("db", "stacklens-bench.db", "the SQLite file to fill (created if missing)")
	databaseURL := fs.String("database-url", "", "fill this PostgreSQL database instead of the SQLite file, postgres://user:password@host:5432/name (migrated if new)")
	token := fs.String("token", "phc_bench", "the default project's capture token (created if missing)")
	var cfg bench.FillConfig
	fs.Int64Var(&cfg.Events, "events", 1_000_000, "events to write")
	fs.IntVar(&cfg.Issues, "issues", 10_000, "distinct issues")
	fs.IntVar(&cfg.SymbolSets, "symbol-sets", 50, "distinct symbol sets (source maps) the frames resolve through")
	fs.IntVar(&cfg.Users, "users", 50_000, "distinct users")
	fs.IntVar(&cfg.Releases, "releases", 20, "distinct releases")
	fs.DurationVar(&cfg.Span, "span", 30*24*time.Hour, "the events' timestamps spread over this span, ending now")
	fs.IntVar(&cfg.BatchSize, "batch", 1000, "events per transaction")
	fs.BoolVar(&cfg.PendingFrames, "pending-frames", false, "store the frames as waiting on their source map's fetch, as a server stopped before resolving them again leaves them: the next start resolves every event again")
	fixtures := fs.String("fixtures", "testdata/fixtures", "the recorded fixtures directory")
	run := fs.Uint("run", 1, "run number, part of every uuid: fill the same file again with another one to add events")
	fs.Parse(args)
	cfg.Run, cfg.Bundle = uint32(*run), *fixtures+"/bundles/posthog-browser"
	templates, err := bench.LoadTemplates(*fixtures)
	if err != nil {
		return err
	}
	store, err := openDatabase(ctx, *path, *databaseURL)
	if err != nil {
		return err
	}
	defer store.Close()
	project, err := store.EnsureDefaultProject(ctx, *token, "")
	if err != nil {
		return err
	}
	cfg.ProjectID = project.ID
	lastReport := time.Now()
	cfg.Progress = func(done int64) {
		if time.Since(lastReport) > 10*time.Second {
			lastReport = time.Now()
			fmt.Printf("%d events written\n", done)
		}
	}
	res, err := bench.Fill(ctx, store, cfg, templates)
	if err != nil {
		return err
	}
	fmt.Printf("wrote %d events into %d new issues with %d symbol sets in %s (%.0f events/s) to %s\n", res.Events, res.Issues,
		res.SymbolSets, res.Took.Round(time.Second), float64(res.Events)/res.Took.Seconds(), databaseName(*path, *databaseURL))
	return nil
}

func runPages(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("pages", flag.ExitOnError)
	var cfg bench.PagesConfig
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8000", "the stacklens server")
	fs.StringVar(&cfg.Email, "email", os.Getenv("STACKLENS_ADMIN_EMAIL"), "sign in as (default $STACKLENS_ADMIN_EMAIL)")
	fs.StringVar(&cfg.Password, "password", os.Getenv("STACKLENS_ADMIN_PASSWORD"), "password (default $STACKLENS_ADMIN_PASSWORD)")
	fs.IntVar(&cfg.Loads, "loads", 50, "loads per page after a warm-up load")
	fs.StringVar(&cfg.Search, "q", "payment", "the search of the search variant")
	fs.Parse(args)
	if cfg.Email == "" || cfg.Password == "" {
		return errors.New("pages: give -email and -password (or STACKLENS_ADMIN_EMAIL and STACKLENS_ADMIN_PASSWORD)")
	}
	timings, err := bench.Pages(ctx, cfg)
	if err != nil {
		return err
	}
	for _, t := range timings {
		fmt.Println(t)
	}
	return nil
}

// openDatabase opens (and migrates) the PostgreSQL database at url when it
// is set, else the SQLite file at path: the same choice stacklens serve makes
// from STACKLENS_DATABASE_URL and STACKLENS_DB.
func openDatabase(ctx context.Context, path, url string) (*db.DB, error) {
	if url == "" {
		return db.Open(ctx, path)
	}
	if !strings.HasPrefix(url, "postgres://") && !strings.HasPrefix(url, "postgresql://") {
		return nil, errors.New("-database-url must be a PostgreSQL URL, postgres://user:password@host:5432/name")
	}
	return db.OpenPostgres(ctx, url)
}

// databaseName says which database a report is about, without a password.
func databaseName(path, url string) string {
	if url == "" {
		return path
	}
	if u, err := neturl.Parse(url); err == nil {
		return u.Redacted()
	}
	return "the PostgreSQL database"
}

// serve listens on addr and serves h; it returns the base URL and a stop function.
func serve(addr string, h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}
