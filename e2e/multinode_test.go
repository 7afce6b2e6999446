package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stacklens/stacklens/internal/testkit"
	"github.com/stacklens/stacklens/symbols"
)

// multiNodeCount is how many stacklens processes share one database in these tests.
const multiNodeCount = 3

// startNodes starts n stacklens processes on the PostgreSQL database dbURL at
// the same moment: each is prepared first, then goroutines released together
// start them, so their first starts (migrations, the admin, the default
// project, the API key) race as they do behind a load balancer.
func startNodes(t *testing.T, dbURL string, n int) []*server {
	t.Helper()
	nodes := make([]*server, n)
	for i := range nodes {
		nodes[i] = prepareServer(t, nodeOptions(dbURL, ""))
	}
	release := make(chan struct{})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, s := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-release
			errs[i] = s.launch()
		}()
	}
	close(release)
	wg.Wait()
	for i, s := range nodes {
		if errs[i] == nil {
			t.Cleanup(func() { s.stop(t) })
		}
	}
	for i, s := range nodes {
		if errs[i] != nil {
			t.Fatalf("node %d: %v", i, errs[i])
		}
		s.awaitHealthy(t)
	}
	return nodes
}

// nodeOptions are the settings of one node on dbURL: the same admin, token
// and API key as every other node (startServer's defaults), listening on addr
// (a free port when empty).
func nodeOptions(dbURL, addr string) serverOptions {
	return serverOptions{Addr: addr, DatabaseURL: dbURL}
}

// restartNode starts a node again on the address and database it had.
func restartNode(t *testing.T, dbURL string, old *server) *server {
	t.Helper()
	return startServer(t, nodeOptions(dbURL, strings.TrimPrefix(old.URL, "http://")))
}

// pgConnect opens a connection of the test's own to the nodes' database.
func pgConnect(t *testing.T, dbURL string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("connect to the nodes' database: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func pgCount(t *testing.T, conn *pgx.Conn, query string, args ...any) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(t.Context(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// checkFirstStartOnce checks what the first start creates exists once,
// whichever node created it: the admin, project 1 with the configured
// token, the API key, and every migration recorded once.
func checkFirstStartOnce(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	var users, admins int
	var email string
	if err := conn.QueryRow(t.Context(), `SELECT count(*), count(*) FILTER (WHERE is_admin = 1), coalesce(min(email), '') FROM users`).Scan(&users, &admins, &email); err != nil {
		t.Fatal(err)
	}
	if users != 1 || admins != 1 || email != adminEmail {
		t.Errorf("after %d nodes' first start: %d users (%d admins, first %q), want the one admin %s", multiNodeCount, users, admins, email, adminEmail)
	}
	rows, err := conn.Query(t.Context(), `SELECT id, token FROM projects ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var projects []string
	for rows.Next() {
		var id int64
		var token string
		if err := rows.Scan(&id, &token); err != nil {
			t.Fatal(err)
		}
		projects = append(projects, fmt.Sprintf("%d:%s", id, token))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"1:" + defaultToken}; !slices.Equal(projects, want) {
		t.Errorf("after %d nodes' first start: projects %v, want %v", multiNodeCount, projects, want)
	}
	if n := pgCount(t, conn, `SELECT count(*) FROM api_keys`); n != 1 {
		t.Errorf("after %d nodes' first start: %d API keys, want the one STACKLENS_API_KEY", multiNodeCount, n)
	}

	files, err := filepath.Glob(filepath.Join(testkit.RepoRoot(t), "db", "migrations", "postgres", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("list the PostgreSQL migrations: %v (%d files)", err, len(files))
	}
	var want []int64
	for _, f := range files {
		v, err := strconv.ParseInt(strings.SplitN(filepath.Base(f), "_", 2)[0], 10, 64)
		if err != nil {
			t.Fatalf("migration %s: %v", f, err)
		}
		want = append(want, v)
	}
	slices.Sort(want)
	rows, err = conn.Query(t.Context(), `SELECT version, count(*) FROM schema_migrations GROUP BY version ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for rows.Next() {
		var v int64
		var n int
		if err := rows.Scan(&v, &n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("migration %d recorded %d times", v, n)
		}
		got = append(got, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("schema_migrations holds %v, want every migration once: %v", got, want)
	}
}

// loadLedger records what the senders were told, per event marker (each
// event's distinct_id and e2e_marker property).
type loadLedger struct {
	mu         sync.Mutex
	accepted   map[string]string // marker → the uuid it was sent with ("" when none), for events answered 200
	unanswered map[string]bool   // markers of events that got no answer or another status
	rawEvents  int               // accepted raw events
	sdkEvents  int               // accepted posthog-node events
	noUUID     int               // accepted events sent without a uuid
	deadTries  int               // requests to a node while it was down
}

func newLoadLedger() *loadLedger {
	return &loadLedger{accepted: map[string]string{}, unanswered: map[string]bool{}}
}

func (l *loadLedger) counts() (raw, sdk int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rawEvents, l.sdkEvents
}

// rawSender spreads /batch/ requests over the nodes until stop is closed:
// batches of perBatch events, every other one without a uuid, each batch to
// the next node in turn. urls is read for every batch, so a restarted node is
// used at once.
func rawSender(g, perBatch int, urls func() []string, ledger *loadLedger, stop <-chan struct{}) {
	client := &http.Client{Timeout: 20 * time.Second}
	for n, turn := 0, g; ; turn++ {
		select {
		case <-stop:
			return
		default:
		}
		var batch []map[string]any
		sent := map[string]string{}
		for range perBatch {
			marker := fmt.Sprintf("raw-%d-%d", g, n)
			ev := markedEvent(fmt.Sprintf("MultiNodeError%d", n%4), marker, n%2 == 0)
			ev["distinct_id"] = marker
			uuid, _ := ev["uuid"].(string)
			sent[marker] = uuid
			batch = append(batch, ev)
			n++
		}
		nodes := urls()
		status := sendBatch(client, nodes[turn%len(nodes)], defaultToken, batch)
		ledger.mu.Lock()
		for marker, uuid := range sent {
			if status == http.StatusOK {
				ledger.accepted[marker] = uuid
				ledger.rawEvents++
				if uuid == "" {
					ledger.noUUID++
				}
			} else {
				ledger.unanswered[marker] = true
			}
		}
		if status == 0 {
			ledger.deadTries++
		}
		ledger.mu.Unlock()
		if status != http.StatusOK {
			time.Sleep(20 * time.Millisecond) // that node is down: do not spin
		}
	}
}

// sdkSender runs e2e/clients/posthog-node-app.js load over and over until
// stop is closed, each run sending perRun exceptions spread over every node
// (the dead one included while it is down). node is the node binary, dir
// e2e/clients. It returns the first failure to run the client at all.
func sdkSender(node, dir string, urls []string, perRun int, ledger *loadLedger, stop <-chan struct{}) error {
	for run := 0; ; run++ {
		select {
		case <-stop:
			return nil
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, node, "posthog-node-app.js", "load")
		cmd.Dir = dir
		cmd.Env = append(baseEnv(), "STACKLENS_HOST="+urls[0], "STACKLENS_TOKEN="+defaultToken,
			"STACKLENS_HOSTS="+strings.Join(urls, ","), fmt.Sprintf("STACKLENS_LOAD=sdk-%d:%d", run, perRun))
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			return fmt.Errorf("posthog-node-app.js load (run %d): %w\n%s", run, err, out)
		}
		sc := bufio.NewScanner(strings.NewReader(string(out)))
		ledger.mu.Lock()
		for sc.Scan() {
			verdict, marker, ok := strings.Cut(sc.Text(), " ")
			switch {
			case ok && verdict == "accepted":
				ledger.accepted[marker] = ""
				ledger.sdkEvents++
			case ok && verdict == "failed":
				ledger.unanswered[marker] = true
			}
		}
		ledger.mu.Unlock()
	}
}

// storedEvent is one row of events as the check reads it.
type storedEvent struct {
	UUID    string
	IssueID int64
}

// storedByMarker reads every stored event of project 1 by its distinct_id
// (the marker every sender gives its events).
func storedByMarker(t *testing.T, conn *pgx.Conn) map[string][]storedEvent {
	t.Helper()
	rows, err := conn.Query(t.Context(), `SELECT distinct_id, uuid, issue_id FROM events WHERE project_id = 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]storedEvent{}
	for rows.Next() {
		var marker string
		var ev storedEvent
		if err := rows.Scan(&marker, &ev.UUID, &ev.IssueID); err != nil {
			t.Fatal(err)
		}
		out[marker] = append(out[marker], ev)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// drainDeadline is how long waitForDrain waits before it gives up: a killed
// node's claimed rows wait for their lease to lapse before another node takes
// them. A deadline for giving up, not an assertion about speed.
const drainDeadline = 2 * time.Minute

// waitForDrain waits until no inbox row is left: every node's pipeline has
// stored (or rejected) what any node accepted.
func waitForDrain(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	deadline := time.Now().Add(drainDeadline)
	for {
		var rows int
		if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM inbox`).Scan(&rows); err != nil {
			t.Fatalf("count inbox rows: %v", err)
		}
		if rows == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s waiting for the inbox to drain: %d rows left", drainDeadline, rows)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestThreeNodesShareOnePostgreSQL starts three nodes on one database at the
// same moment, spreads raw batches (with and without uuids) and the real
// posthog-node client over them, kills one node with SIGKILL under load and
// restarts it on its port, and checks that every event answered 200 is
// stored exactly once, that the issues' counters agree with the stored
// events, that every node's API and pages show the same issues and counts,
// and that a status change made through one node is what the others show
// at once.
func TestThreeNodesShareOnePostgreSQL(t *testing.T) {
	node, clients := testkit.Node(t), clientsDir(t)
	testkit.NodeModules(t)
	dbURL := testkit.PostgresDatabase(t)
	nodes := startNodes(t, dbURL, multiNodeCount)
	conn := pgConnect(t, dbURL)
	checkFirstStartOnce(t, conn)

	// The load: senders spread over the nodes; progress, not time, decides
	// when the node is killed, when it comes back and when the load ends.
	const senders, perBatch, rawPerPhase, sdkPerRun, sdkPerPhase = 4, 4, 240, 30, 15
	var live atomic.Pointer[[]string]
	urls := func() []string { return *live.Load() }
	all := make([]string, len(nodes))
	for i, s := range nodes {
		all[i] = s.URL
	}
	live.Store(&all)
	ledger := newLoadLedger()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rawSender(g, perBatch, urls, ledger, stop)
		}()
	}
	sdkErr := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		sdkErr <- sdkSender(node, clients, all, sdkPerRun, ledger, stop)
	}()
	stopped := false
	stopLoad := func() {
		if !stopped {
			stopped = true
			close(stop)
			wg.Wait()
		}
	}
	defer stopLoad()
	started := time.Now()
	phase := func(what string) {
		t.Helper()
		raw0, sdk0 := ledger.counts()
		deadline := time.Now().Add(4 * processDeadline)
		for {
			raw, sdk := ledger.counts()
			if raw >= raw0+rawPerPhase && sdk >= sdk0+sdkPerPhase {
				return
			}
			select {
			case err := <-sdkErr:
				stopLoad()
				t.Fatalf("%s: the posthog-node client failed: %v", what, err)
			default:
			}
			if time.Now().After(deadline) {
				stopLoad()
				t.Fatalf("%s: gave up waiting for %d raw and %d posthog-node events answered 200 (have %d and %d more)", what, rawPerPhase, sdkPerPhase, raw-raw0, sdk-sdk0)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	phase("before the kill")
	const victim = 1
	nodes[victim].kill9(t)
	phase("while node " + strconv.Itoa(victim) + " is down")
	nodes[victim] = restartNode(t, dbURL, nodes[victim])
	phase("after the restart")
	stopLoad()
	loadTime := time.Since(started)
	if err := <-sdkErr; err != nil {
		t.Fatalf("the posthog-node client: %v", err)
	}

	drainStart := time.Now()
	waitForDrain(t, conn)
	drainTime := time.Since(drainStart)
	stored := storedByMarker(t, conn)

	// Every accepted event once, with the uuid it was sent with; nothing stored twice or never sent.
	ledger.mu.Lock()
	accepted, unanswered := len(ledger.accepted), len(ledger.unanswered)
	problems := 0
	report := func(format string, args ...any) {
		problems++
		if problems <= 20 {
			t.Errorf(format, args...)
		}
	}
	for marker, uuid := range ledger.accepted {
		got := stored[marker]
		switch {
		case len(got) != 1:
			report("event %s was answered 200 and is stored %d times: %+v", marker, len(got), got)
		case uuid != "" && got[0].UUID != uuid:
			report("event %s was sent with uuid %s and is stored with %s", marker, uuid, got[0].UUID)
		}
	}
	storedUnanswered := 0
	for marker, got := range stored {
		if _, ok := ledger.accepted[marker]; ok {
			continue
		}
		switch {
		case !ledger.unanswered[marker]:
			report("stored event %s (%+v) was never sent", marker, got)
		case len(got) > 1:
			report("event %s, whose request got no answer, is stored %d times: %+v", marker, len(got), got)
		default:
			storedUnanswered++
		}
	}
	rawEvents, sdkEvents, noUUID, deadTries := ledger.rawEvents, ledger.sdkEvents, ledger.noUUID, ledger.deadTries
	ledger.mu.Unlock()
	if problems > 20 {
		t.Errorf("… %d problems in all", problems)
	}
	if n := pgCount(t, conn, `SELECT count(*) FROM inbox_rejected`); n != 0 {
		t.Errorf("%d inbox rows were rejected, want none", n)
	}

	// The issues' counters are those of the events stored under them.
	rows, err := conn.Query(t.Context(), `SELECT i.id, i.occurrences, i.users_affected, count(e.id), count(DISTINCT e.distinct_id)
		FROM issues i LEFT JOIN events e ON e.issue_id = i.id GROUP BY i.id ORDER BY i.id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, occurrences, users, events, distinct int64
		if err := rows.Scan(&id, &occurrences, &users, &events, &distinct); err != nil {
			t.Fatal(err)
		}
		if occurrences != events || users != distinct {
			t.Errorf("issue %d counts %d occurrences and %d users; its stored events are %d, of %d users", id, occurrences, users, events, distinct)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d nodes, node %d killed with SIGKILL and restarted: %d events answered 200 (%d raw, %d of them without uuid; %d posthog-node) in %s, %.0f events/s; "+
		"%d events got no answer (%d requests to the dead node), %d of them stored; %d events stored in all; inbox drained %s after the load ended",
		multiNodeCount, victim, accepted, rawEvents, noUUID, sdkEvents, loadTime.Round(time.Millisecond), float64(accepted)/loadTime.Seconds(),
		unanswered, deadTries, storedUnanswered, len(stored), drainTime.Round(time.Millisecond))

	issues := checkNodesAgree(t, nodes, conn)
	checkStatusSeenEverywhere(t, nodes, issues)
}

// checkNodesAgree checks that every node's API lists the same issues with the
// same counts as the database, and that every node's /issues page shows the
// same rows with the same Events and Users. It returns the issues.
func checkNodesAgree(t *testing.T, nodes []*server, conn *pgx.Conn) []triageIssue {
	t.Helper()
	type counted struct {
		Name, Description, Status string
		Events, Users             int
	}
	want := map[int64]counted{}
	rows, err := conn.Query(t.Context(), `SELECT id, name, description, status, occurrences, users_affected FROM issues WHERE project_id = 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var c counted
		if err := rows.Scan(&id, &c.Name, &c.Description, &c.Status, &c.Events, &c.Users); err != nil {
			t.Fatal(err)
		}
		want[id] = c
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"MultiNodeError0", "MultiNodeError1", "MultiNodeError2", "MultiNodeError3"} {
		n := 0
		for _, c := range want {
			if c.Name == name {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d issues named %s, want one (every event of it has the same fingerprint)", n, name)
		}
	}

	var first []triageIssue
	for i, s := range nodes {
		issues, err := listTriage(t.Context(), newAPI(s), "status=all&limit=500")
		if err != nil {
			t.Fatalf("node %d API: %v", i, err)
		}
		got := map[int64]counted{}
		for _, is := range issues {
			got[is.ID] = counted{is.Name, is.Description, is.Status, is.Occurrences, is.UsersAffected}
		}
		for id, c := range want {
			if got[id] != c {
				t.Errorf("node %d API: issue %d is %+v, the database holds %+v", i, id, got[id], c)
			}
		}
		if len(got) != len(want) {
			t.Errorf("node %d API lists %d issues, the database holds %d", i, len(got), len(want))
		}
		if i == 0 {
			first = issues
		}

		b := newBrowser(t, s)
		b.login(t)
		ids := listOrder(t, b, "/issues")
		if len(ids) != len(want) {
			t.Errorf("node %d /issues shows %d rows, want %d: %v", i, len(ids), len(want), ids)
		}
		list := b.get(t, "/issues")
		for id, c := range want {
			events, users, _ := rowCounts(t, issueRowHTML(t, list.Body, id))
			if events != c.Events || users != c.Users {
				t.Errorf("node %d /issues: row of issue %d shows %d events, %d users; the database holds %d, %d", i, id, events, users, c.Events, c.Users)
			}
		}
	}
	return first
}

// browserOn is b with the same cookies (the one session a load balancer's
// client keeps) talking to another node.
func browserOn(b *browser, s *server) *browser {
	return &browser{base: s.URL, http: b.http}
}

// checkStatusSeenEverywhere resolves an issue through one node's page, with
// the form another node rendered (a load balancer's next request lands
// anywhere), and checks that the other nodes' API and pages show it resolved
// at once; then reopens it through a third node's API and checks the first.
func checkStatusSeenEverywhere(t *testing.T, nodes []*server, issues []triageIssue) {
	t.Helper()
	if len(issues) == 0 {
		t.Fatal("no issues to change the status of")
	}
	target := issues[0]
	path := fmt.Sprintf("/issues/%d", target.ID)
	onA := newBrowser(t, nodes[0])
	onA.login(t)
	onB, onC := browserOn(onA, nodes[1]), browserOn(onA, nodes[2])

	form := statusForm(t, onC, strconv.FormatInt(target.ID, 10))
	form.Fields.Set("status", "resolved")
	if got := onA.postForm(t, form.Action, form.Fields); got.Status != http.StatusSeeOther {
		t.Fatalf("node 0: POST %s with node 2's form: %d %s", form.Action, got.Status, truncate(pageText(t, got.Body), 500))
	}
	for i, b := range map[int]*browser{1: onB, 2: onC} {
		if got := getTriage(t, newAPI(nodes[i]), target.ID); got.Status != "resolved" {
			t.Errorf("node %d API right after node 0 resolved issue %d: status %q, want resolved", i, target.ID, got.Status)
		}
		if ids := listOrder(t, b, "/issues?status=resolved"); !slices.Equal(ids, []string{strconv.FormatInt(target.ID, 10)}) {
			t.Errorf("node %d /issues?status=resolved right after node 0 resolved issue %d: %v", i, target.ID, ids)
		}
		if ids := listOrder(t, b, "/issues"); slices.Contains(ids, strconv.FormatInt(target.ID, 10)) {
			t.Errorf("node %d /issues (active) still lists issue %d right after node 0 resolved it", i, target.ID)
		}
		if text := pageText(t, b.get(t, path).Body); !strings.Contains(text, adminEmail+" resolved it") {
			t.Errorf("node %d %s does not say who resolved it:\n%s", i, path, truncate(text, 1500))
		}
	}

	if err := newAPI(nodes[2]).do(t.Context(), http.MethodPatch, fmt.Sprintf("/issues/%d", target.ID), map[string]any{"status": "active"}, nil); err != nil {
		t.Fatalf("node 2: PATCH issue %d to active: %v", target.ID, err)
	}
	if ids := listOrder(t, onA, "/issues?status=resolved"); len(ids) != 0 {
		t.Errorf("node 0 /issues?status=resolved right after node 2 reopened issue %d: %v, want none", target.ID, ids)
	}
	if got := getTriage(t, newAPI(nodes[0]), target.ID); got.Status != "active" {
		t.Errorf("node 0 API right after node 2 reopened issue %d: status %q, want active", target.ID, got.Status)
	}
}

// nodeMapJS is a minified file of two functions: line 1 is the first, line
// 2 the second; each calls boom().
const nodeMapJS = "function f(){boom()}\nfunction g(){boom()}\n"

// nodeMap maps each line of nodeMapJS into its own source, named after
// version: v1/second.js holds function secondv1.
func nodeMap(version string) []byte {
	return []byte(`{"version":3,"sources":["` + version + `/first.js","` + version + `/second.js"],"names":[],` +
		`"sourcesContent":["function first` + version + `() {\n  boom();\n}\n","function second` + version + `() {\n  boom();\n}\n"],` +
		`"mappings":"AAAA,SAAS,IACP;ACDF,SAAS,IACP"}`)
}

// chunkEvent is an exception whose one frame is boom() on line 2 of a file
// that carries chunk: it resolves only through the map uploaded for chunk.
func chunkEvent(chunk, value string) map[string]any {
	return map[string]any{"event": "$exception", "uuid": newUUID(), "distinct_id": "map-user", "properties": map[string]any{
		"$exception_list": []any{map[string]any{"type": "Error", "value": value, "mechanism": map[string]any{"type": "generic", "handled": true},
			"stacktrace": map[string]any{"type": "raw", "frames": []any{map[string]any{
				"platform": "web:javascript", "filename": "http://127.0.0.1:9/chunked.js", "function": "g",
				"lineno": 2, "colno": 14, "in_app": true, "chunk_id": chunk}}}}}}}
}

// uploadMap uploads minified and sourceMap for chunk through s the way
// posthog-cli does (bulk_start_upload, the presigned POST, bulk_finish_upload);
// force replaces what is stored.
func uploadMap(t *testing.T, s *server, chunk string, sourceMap []byte, force bool) {
	t.Helper()
	blob := symbols.EncodeUploadBlob(2, true, []byte(nodeMapJS), sourceMap)
	status, answer := rawCall(t, http.MethodPost, symbolSetsAPI(s)+"/bulk_start_upload", map[string]any{
		"symbol_sets": []any{map[string]any{"chunk_id": chunk, "release_id": nil, "content_hash": sha512Hex(blob)}}, "force": force})
	expectStatus(t, "bulk_start_upload", status, answer, http.StatusCreated)
	var started cliStart
	decodeInto(t, "bulk_start_upload", answer, &started)
	entry, ok := started.IDMap[chunk]
	if !ok {
		t.Fatalf("bulk_start_upload through %s: no entry for %s in %s", s.URL, chunk, answer)
	}
	if status, answer := presignedPost(t, entry.PresignedURL.URL, entry.PresignedURL.Fields, blob); status/100 != 2 {
		t.Fatalf("presigned POST to %s: %d %s", entry.PresignedURL.URL, status, answer)
	}
	status, answer = rawCall(t, http.MethodPost, symbolSetsAPI(s)+"/bulk_finish_upload", map[string]any{"content_hashes": map[string]string{entry.SymbolSetID: sha512Hex(blob)}})
	expectStatus(t, "bulk_finish_upload", status, answer, http.StatusCreated)
}

// waitForResolvedEvent waits until the node's API shows the event of value
// with its frame resolved, and returns the frame and its issue.
func waitForResolvedEvent(t *testing.T, s *server, value string) (apiFrame, string) {
	t.Helper()
	var frame apiFrame
	var issueID string
	a := newAPI(s)
	waitFor(t, fmt.Sprintf("%s to show event %q resolved", s.URL, value), func(ctx context.Context) (bool, string, error) {
		events, err := allEvents(ctx, a)
		if err != nil {
			return false, "", err
		}
		for _, ev := range events {
			if len(ev.Event.ExceptionList) == 0 || ev.Event.ExceptionList[0].Value != value || len(ev.Event.ExceptionList[0].Frames) == 0 {
				continue
			}
			frame, issueID = ev.Event.ExceptionList[0].Frames[0], ev.IssueID
			return frame.Resolved, describeFrame(frame), nil
		}
		return false, fmt.Sprintf("no event %q among %d", value, len(events)), nil
	})
	return frame, issueID
}

// checkResolvedWith checks that every node shows the event of value resolved
// through the map of version: the API's frame and the issue page's text.
func checkResolvedWith(t *testing.T, nodes []*server, b *browser, value, version string) {
	t.Helper()
	for i, s := range nodes {
		frame, issueID := waitForResolvedEvent(t, s, value)
		if frame.ResolvedName != "second"+version || frame.Source != version+"/second.js" || frame.Line != 2 {
			t.Errorf("node %d: event %q's frame is %s, want second%s at %s/second.js:2 (the %s map)", i, value, describeFrame(frame), version, version, version)
		}
		text := pageText(t, browserOn(b, s).get(t, "/issues/"+issueID).Body)
		if !strings.Contains(text, "second"+version) || !strings.Contains(text, version+"/second.js") {
			t.Errorf("node %d: the page of issue %s does not show second%s in %s/second.js:\n%s", i, issueID, version, version, truncate(text, 2000))
		}
	}
}

// TestThreeNodesShareSourceMaps uploads a source map through one node, sends
// an event that needs it to a second, and checks every node (the third's
// page too) shows its frame resolved; then replaces the map through the
// first node and checks that an event sent to the second afterwards
// resolves, on every node, through the new map, never a cached old one.
func TestThreeNodesShareSourceMaps(t *testing.T) {
	dbURL := testkit.PostgresDatabase(t)
	nodes := startNodes(t, dbURL, multiNodeCount)
	a, b, c := nodes[0], nodes[1], nodes[2]
	browser := newBrowser(t, c)
	browser.login(t)
	const chunk = "0197e2e0-0000-7000-8000-0000000003a1"

	uploadMap(t, a, chunk, nodeMap("v1"), false)
	postEvents(t, b, []any{chunkEvent(chunk, "after the first upload")})
	checkResolvedWith(t, []*server{c, b, a}, browser, "after the first upload", "v1")

	uploadMap(t, a, chunk, nodeMap("v2"), true)
	postEvents(t, b, []any{chunkEvent(chunk, "after the replacement")})
	checkResolvedWith(t, []*server{c, b, a}, browser, "after the replacement", "v2")
}
