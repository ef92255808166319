package main

import (
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"regexp"
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
	check       bool          // exit non-zero on lost, duplicate or out-of-order frames, failed sockets or publishes
}

const usageText = `usage: notifybench [flags]

Load notifyd through its publisher API and websocket protocol and report
connect times, publish→frame latency, throughput, RSS per socket and errors.

  notifybench -key KEY -users 2500 -sockets 5000 -rate 1000 -duration 20s
  notifybench -notifyd=false -raw -users 50 -sockets 100 -rate 200   # baseline only

Flags:`

var prefixPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,50}$`)

// parseFlags parses and validates args; getenv supplies NOTIFYBENCH_KEY.
func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("notifybench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.httpURL, "http", "http://127.0.0.1:8000", "notifyd HTTP API base `URL`")
	fs.StringVar(&o.wsURL, "ws", "ws://127.0.0.1:8001/ws", "notifyd websocket `URL`")
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
	fs.BoolVar(&o.raw, "raw", false, "also run the raw coder/websocket baseline in-process")
	fs.StringVar(&o.prefix, "prefix", "", `username prefix (default "bench" and a random suffix)`)
	fs.IntVar(&o.procs, "procs", 0, "child processes holding the client sockets; 0: none, or enough past 15,000 sockets")
	fs.Float64Var(&o.connectRate, "connect-rate", 0, "new sockets per second; 0: unlimited")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, "hard limit on the whole run")
	fs.DurationVar(&o.opTimeout, "op-timeout", 10*time.Second, "limit on one HTTP request, or one socket's connect and auth")
	fs.DurationVar(&o.idle, "idle", 3*time.Second, "with -server-pid: idle time after connecting, before the RSS sample")
	fs.BoolVar(&o.child, "child", false, "internal: run as a child process")
	fs.BoolVar(&o.check, "check", false, "exit non-zero on lost, duplicate or out-of-order frames, failed sockets or failed publishes (never on timings): for CI smoke runs")
	fs.Usage = func() {
		fmt.Fprintln(stderr, usageText)
		fs.VisitAll(func(f *flag.Flag) {
			if f.Name == "child" {
				return
			}
			name, help := flag.UnquoteUsage(f)
			if f.DefValue != "" {
				help += fmt.Sprintf(" (default %s)", f.DefValue)
			}
			fmt.Fprintf(stderr, "  -%s %s\n    \t%s\n", f.Name, name, help)
		})
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if o.child {
		return o, nil
	}
	if o.key == "" {
		o.key = getenv("NOTIFYBENCH_KEY")
	}
	if o.prefix == "" {
		o.prefix = "bench" + randomSuffix()
	}
	return o, o.validate()
}

// validate checks the options and names the flag at fault.
func (o options) validate() error {
	checks := []struct {
		bad bool
		msg string
	}{
		{!o.notifyd && !o.raw, "nothing to run: -notifyd=false needs -raw"},
		{o.notifyd && o.key == "", "-key (or NOTIFYBENCH_KEY) is required to use the publisher API"},
		{o.users < 1, "-users must be at least 1"},
		{o.sockets < 0, "-sockets must not be negative"},
		{o.rate < 0, "-rate must not be negative"},
		{o.publishers < 1, "-publishers must be at least 1"},
		{o.duration <= 0, "-duration must be positive"},
		{o.batch < 0 || o.batch > maxBulkUsers, fmt.Sprintf("-batch must be 0 to %d", maxBulkUsers)},
		{o.batch > o.users, "-batch must not exceed -users (duplicate ids are merged)"},
		{o.fanout && o.batch > 0, "-fanout and -batch exclude each other"},
		{o.serverPID < 0, "-server-pid must not be negative"},
		{!prefixPattern.MatchString(o.prefix), "-prefix must be 1 to 50 of [A-Za-z0-9_.-]"},
		{o.procs < 0, "-procs must not be negative"},
		{o.connectRate < 0, "-connect-rate must not be negative"},
		{o.timeout <= o.duration, "-timeout must be longer than -duration"},
		{o.opTimeout <= 0, "-op-timeout must be positive"},
		{o.idle < 0, "-idle must not be negative"},
	}
	for _, c := range checks {
		if c.bad {
			return errors.New(c.msg)
		}
	}
	if o.notifyd {
		if err := checkURL("-http", o.httpURL, "http", "https"); err != nil {
			return err
		}
		if err := checkURL("-ws", o.wsURL, "ws", "wss"); err != nil {
			return err
		}
	}
	return nil
}

// checkURL accepts an absolute URL with one of schemes and a host.
func checkURL(flagName, raw string, schemes ...string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", flagName, err)
	}
	for _, s := range schemes {
		if u.Scheme == s && u.Host != "" {
			return nil
		}
	}
	return fmt.Errorf("%s: want %s://host[:port]..., got %q", flagName, schemes[0], raw)
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

// configSummary echoes the run's parameters in the summary (not the key).
type configSummary struct {
	HTTP        string  `json:"http,omitempty"`
	WS          string  `json:"ws,omitempty"`
	Users       int     `json:"users"`
	Sockets     int     `json:"sockets"`
	Rate        float64 `json:"rate"`
	Publishers  int     `json:"publishers"`
	Duration    float64 `json:"duration_s"`
	Batch       int     `json:"batch"`
	Fanout      bool    `json:"fanout"`
	Prefix      string  `json:"prefix,omitempty"`
	ConnectRate float64 `json:"connect_rate"`
}

func (o options) summary() configSummary {
	c := configSummary{
		Users: o.users, Sockets: o.sockets, Rate: o.rate, Publishers: o.publishers,
		Duration: o.duration.Seconds(), Batch: o.batch, Fanout: o.fanout, ConnectRate: o.connectRate,
	}
	if o.notifyd {
		c.HTTP, c.WS, c.Prefix = o.httpURL, o.wsURL, o.prefix
	}
	return c
}
