package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"
)

// options is the parsed command line.
type options struct {
	httpURL     string        // notifyd's HTTP API
	wsURL       string        // notifyd's websocket endpoint
	key         string        // publisher API key (-key or NOTIFYBENCH_KEY)
	users       int           // users created
	sockets     int           // sockets opened, round-robin over users
	rate        float64       // notifications per second, 0: as fast as possible
	publishers  int           // concurrent publishers
	duration    time.Duration // publishing time
	batch       int           // 0: one request per notification; B: user_ids per bulk request
	fanout      bool          // rounds of one bulk request to every user
	serverPID   int           // notifyd's pid, for RSS; 0: not measured
	json        bool          // JSON summary
	notifyd     bool          // run against notifyd
	raw         bool          // run the raw baseline too
	prefix      string        // username prefix
	procs       int           // client processes; 0: automatic
	connectRate float64       // new sockets per second, 0: unlimited
	timeout     time.Duration // the whole run
	opTimeout   time.Duration // one HTTP request, or one socket's dial+auth+hello
	idle        time.Duration // idle time before the RSS sample
	child       bool          // internal: hold a share of the sockets for a parent
	serve       bool          // internal: run a baseline server for a parent
	check       bool          // exit non-zero on lost, duplicate or out-of-order frames, failed sockets or publishes
	drain       time.Duration // longest wait for the frames owed after publishing stops
	keys        bool          // an Idempotency-Key on every create (the Go client's default)

	floor bool // run the persisted floor too
	// baselinesFirst runs -floor and -raw before notifyd: the later
	// targets connect with the client's heap already grown.
	baselinesFirst bool
	// isolate runs each target's client in a process of its own
	// (targets.go); only is that process's one target.
	isolate bool
	only    string

	dbURL string // Postgres of the floor's scratch schema and of the started instances

	start      int      // notifyd processes to start on a fresh database; 0: use -http/-ws
	notifydBin string   // the notifyd binary to start
	cluster    bool     // cluster mode (cluster.broker, -broker or postgres) for the started instances (always with 2 or more)
	broker     string   // NOTIFYD_CLUSTER_BROKER of the started instances, when set
	notifydEnv []string // more KEY=VALUE for the started instances
	publishTo  string   // "all" instances, or the "first" only

	profile string // -profile: the directory of the started instance's profiles; "": none

	fault     string        // "", kill, pgterm or natsrestart: a fault mid-publishing (fault.go)
	faultAt   time.Duration // after the first publish
	faultDown time.Duration // kill, natsrestart: time down before the restart

	args []string // the command line, for the report
}

// defaultDB is the local Postgres of the project's tests and benchmarks.
const defaultDB = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// maxStart bounds -start: more processes than that on one box measure the
// box, not notifyd.
const maxStart = 8

const usageText = `usage: notifybench [flags]

Load notifyd through its publisher API and websocket protocol and report
connect times, publish→frame latency, throughput, RSS per socket and errors.

  notifybench -key KEY -users 2500 -sockets 5000 -rate 1000 -duration 20s
  notifybench -notifyd=false -raw -users 50 -sockets 100 -rate 200   # baseline only
  notifybench -start 1 -notifyd-bin /tmp/notifyd -floor -raw -rate 0  # notifyd, floor and raw in turn
  notifybench -start 2 -notifyd-bin /tmp/notifyd -users 1000 -sockets 2000 -rate 0   # two instances
  notifybench -start 2 -notifyd-bin /tmp/notifyd -rate 500 -duration 20s -fault kill   # without, then with a kill -9

Flags:`

var prefixPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,50}$`)

// parseFlags parses and validates args; getenv supplies NOTIFYBENCH_KEY.
func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("notifybench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.httpURL, "http", "http://127.0.0.1:8000", "notifyd HTTP API base `URL`; several instances: a comma-separated list, in the order of -ws")
	fs.StringVar(&o.wsURL, "ws", "ws://127.0.0.1:8001/ws", "notifyd websocket `URL`; several instances: a comma-separated list")
	fs.StringVar(&o.key, "key", "", "publisher API key (default $NOTIFYBENCH_KEY)")
	fs.IntVar(&o.users, "users", 100, "`N` users to create, each with one session")
	fs.IntVar(&o.sockets, "sockets", 200, "`S` sockets to open, spread round-robin over the users")
	fs.Float64Var(&o.rate, "rate", 200, "notifications per second over all publishers; 0: as fast as possible")
	fs.IntVar(&o.publishers, "publishers", 16, "concurrent publishers")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long to publish")
	fs.IntVar(&o.batch, "batch", 0, "0: one POST per notification; B>0: POST /api/publisher/notifications with B user_ids")
	fs.BoolVar(&o.fanout, "fanout", false, "rounds of one bulk request to every user, each delivered before the next (-rate, -publishers do not apply)")
	fs.IntVar(&o.serverPID, "server-pid", 0, "notifyd's `pid`, to report its RSS per socket")
	fs.BoolVar(&o.json, "json", false, "print the summary as JSON")
	fs.BoolVar(&o.notifyd, "notifyd", true, "run against notifyd (-notifyd=false with -raw: baseline only)")
	fs.BoolVar(&o.raw, "raw", false, "also run the bare fan-out: coder/websocket sockets behind a bare net/http publish handler, no storage, in a process of its own")
	fs.StringVar(&o.prefix, "prefix", "", `username prefix (default "bench" and a random suffix)`)
	fs.IntVar(&o.procs, "procs", 0, "child processes holding the client sockets; 0: none, or enough past 15,000 sockets")
	fs.Float64Var(&o.connectRate, "connect-rate", 0, "new sockets per second; 0: unlimited")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, "hard limit on the whole run")
	fs.DurationVar(&o.opTimeout, "op-timeout", 10*time.Second, "limit on one HTTP request, or one socket's connect and auth")
	fs.DurationVar(&o.idle, "idle", 3*time.Second, "with -server-pid: idle time after connecting, before the RSS sample")
	fs.BoolVar(&o.child, "child", false, "internal: run as a child process")
	fs.BoolVar(&o.serve, "serve", false, "internal: run a baseline server as a child process")
	fs.BoolVar(&o.check, "check", false, "exit non-zero on lost, duplicate or out-of-order frames, failed sockets or failed publishes (never on timings): for CI smoke runs")
	fs.DurationVar(&o.drain, "drain", 15*time.Second, "after publishing, wait at most this long for the frames owed (also stops after 2s without a frame)")
	fs.BoolVar(&o.keys, "idempotency-keys", false, "send an Idempotency-Key on every create, as the Go client does by default")
	fs.BoolVar(&o.baselinesFirst, "baselines-first", false, "run -floor and -raw before notifyd, not after: the targets share this client process, whose heap has grown by the time the later ones connect")
	fs.BoolVar(&o.isolate, "isolate", true, "with more than one target (notifyd, -floor, -raw): run each target's client (its sockets and publishers) in a process of its own, one after the other, so no target inherits the client's heap and runtime from the one before")
	fs.StringVar(&o.only, "only", "", "internal: run this one target, for a parent running each in a process of its own")
	fs.BoolVar(&o.floor, "floor", false, "also run the persisted floor: the bare fan-out's handler inserting one row with pgx and committing before the push, in a process of its own")
	fs.StringVar(&o.dbURL, "db", defaultDB, "Postgres `URL` for -floor (a scratch schema, dropped after) and -start (a fresh database, dropped after)")
	fs.IntVar(&o.start, "start", 0, "start `N` notifyd processes (-notifyd-bin) on a fresh database of -db, instead of using -http/-ws; 2 or more run in cluster mode")
	fs.StringVar(&o.notifydBin, "notifyd-bin", "", "`path` of the notifyd binary for -start (go build -o /tmp/notifyd ./cmd/notifyd)")
	fs.BoolVar(&o.cluster, "cluster", false, "cluster mode (cluster.broker = -broker, default postgres) for a single started instance (always on with -start 2 or more)")
	fs.StringVar(&o.broker, "broker", "", "cluster broker of the started instances, passed as NOTIFYD_CLUSTER_BROKER (only when set)")
	fs.Func("notifyd-env", "`KEY=VALUE` for the started instances (repeatable), e.g. NOTIFYD_CLUSTER_SECRET=...", func(v string) error {
		if k, _, ok := strings.Cut(v, "="); !ok || k == "" {
			return errors.New("want KEY=VALUE")
		}
		o.notifydEnv = append(o.notifydEnv, v)
		return nil
	})
	fs.StringVar(&o.publishTo, "publish-to", "all", "with several instances: publish to \"all\" in turn, or to the \"first\" only")
	fs.StringVar(&o.profile, "profile", "", "with -start 1: profile notifyd while the sockets connect (DIR/*-connect-*) and while it publishes, and write the profiles, a 1 s trace, /metrics before and after and the latency split by stage into `DIR` (the baselines are not profiled; scripts/profiles.sh runs issue 11's workloads with it)")
	fs.StringVar(&o.fault, "fault", "", "with -start 2 or more: run once without a fault, then once with `F` mid-publishing, and check every socket against the database: "+
		"kill (SIGKILL the last instance, restart it on its ports), pgterm (pg_terminate_backend of the listeners; postgres broker), "+
		"natsrestart (kill and restart a nats-server the tool starts for the run; nats broker)")
	fs.DurationVar(&o.faultAt, "fault-at", 5*time.Second, "with -fault: when the fault hits, after the first publish")
	fs.DurationVar(&o.faultDown, "fault-down", time.Second, "with -fault kill or natsrestart: how long the instance or server stays down")
	fs.Usage = func() {
		fmt.Fprintln(stderr, usageText)
		fs.VisitAll(func(f *flag.Flag) {
			if f.Name == "child" || f.Name == "serve" || f.Name == "only" {
				return
			}
			name, help := flag.UnquoteUsage(f)
			if f.DefValue != "" {
				help += fmt.Sprintf(" (default %s)", f.DefValue)
			}
			fmt.Fprintf(stderr, "  -%s %s\n    \t%s\n", f.Name, name, help)
		})
	}
	o.args = args
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if o.child || o.serve {
		return o, nil
	}
	if o.key == "" {
		o.key = getenv("NOTIFYBENCH_KEY")
	}
	if o.key == "" && o.start > 0 {
		o.key = "notifybench-" + randomHex(16) // the started instances get it
	}
	if o.prefix == "" {
		o.prefix = "bench" + randomSuffix()
	}
	if o.fault != "" {
		// A publisher retries a create whose answer a fault lost; only an
		// Idempotency-Key makes that retry safe (the Go client's default).
		o.keys = true
	}
	if err := o.validate(); err != nil {
		return o, err
	}
	if o.only != "" {
		if !slices.Contains([]string{targetNotifyd, targetFloor, targetRaw}, o.only) {
			return o, fmt.Errorf("-only must be %s, %s or %s", targetNotifyd, targetFloor, targetRaw)
		}
		o = o.onlyTarget()
	}
	return o, nil
}

// randomSuffix returns 6 random lower-case letters and digits, so two runs
// against the same server create different users.
func randomSuffix() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 6)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "-" + string(b)
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
