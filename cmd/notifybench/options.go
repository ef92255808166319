package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// flagCheck is one rule of validate: the message names the flag at fault.
type flagCheck struct {
	bad bool
	msg string
}

// validate checks the options and names the flag at fault.
func (o options) validate() error {
	checks := []flagCheck{
		{!o.notifyd && !o.raw && !o.floor, "nothing to run: -notifyd=false needs -raw or -floor"},
		{o.baselinesFirst && !o.raw && !o.floor, "-baselines-first needs -raw or -floor"},
		{o.notifyd && o.key == "", "-key (or NOTIFYBENCH_KEY) is required to use the publisher API"},
		{o.users < 1, "-users must be at least 1"},
		{o.sockets < 0, "-sockets must not be negative"},
		{o.rate < 0, "-rate must not be negative"},
		{o.publishers < 1, "-publishers must be at least 1"},
		{o.duration <= 0, "-duration must be positive"},
		{o.batch < 0 || o.batch > maxBulkUsers, fmt.Sprintf("-batch must be 0 to %d", maxBulkUsers)},
		{o.batch > o.users, "-batch must not exceed -users (duplicate ids are merged)"},
		{o.fanout && o.batch > 0, "-fanout and -batch exclude each other"},
		{o.floor && (o.batch > 0 || o.fanout), "-floor takes one request per notification: not with -batch or -fanout"},
		{o.serverPID < 0, "-server-pid must not be negative"},
		{!prefixPattern.MatchString(o.prefix), "-prefix must be 1 to 50 of [A-Za-z0-9_.-]"},
		{o.procs < 0, "-procs must not be negative"},
		{o.connectRate < 0, "-connect-rate must not be negative"},
		{o.timeout <= o.duration, "-timeout must be longer than -duration"},
		{o.opTimeout <= 0, "-op-timeout must be positive"},
		{o.idle < 0, "-idle must not be negative"},
		{o.drain <= 0, "-drain must be positive"},
		{o.start < 0 || o.start > maxStart, fmt.Sprintf("-start must be 0 to %d", maxStart)},
		{o.start > 0 && !o.notifyd, "-start needs -notifyd"},
		{o.start > 0 && o.notifydBin == "", "-start needs -notifyd-bin (go build -o /tmp/notifyd ./cmd/notifyd)"},
		{o.start > 0 && o.serverPID > 0, "-server-pid is for a running notifyd; -start measures the RSS of a single started instance itself"},
		{o.start == 0 && (o.cluster || o.broker != "" || len(o.notifydEnv) > 0), "-cluster, -broker and -notifyd-env apply to started instances: use -start"},
		{o.broker != "" && !o.clusterOn(), "-broker needs cluster mode (-cluster, or -start 2 or more)"},
		{o.profile != "" && o.start != 1, "-profile needs -start 1: it profiles the one notifyd the tool started"},
		{o.profile != "" && o.fault != "", "-profile and -fault exclude each other"},
		{o.publishTo != "all" && o.publishTo != "first", `-publish-to must be "all" or "first"`},
	}
	checks = append(checks, o.faultChecks()...)
	for _, c := range checks {
		if c.bad {
			return errors.New(c.msg)
		}
	}
	if (o.floor || o.start > 0) && o.dbURL != "" {
		if err := checkURL("-db", o.dbURL, "postgres", "postgresql"); err != nil {
			return err
		}
	}
	if o.notifyd && o.start == 0 {
		return checkEndpoints(o.httpURL, o.wsURL)
	}
	return nil
}

// faultChecks are the checks of -fault and its flags.
func (o options) faultChecks() []flagCheck {
	if o.fault == "" {
		return nil
	}
	broker := o.broker
	if broker == "" {
		broker = "postgres"
	}
	return []flagCheck{
		{o.fault != faultKill && o.fault != faultPGTerm && o.fault != faultNATSRestart, "-fault must be kill, pgterm or natsrestart"},
		{o.start < 2, "-fault needs -start 2 or more: a cluster the tool started"},
		{o.raw || o.floor, "-fault runs notifyd only: not with -raw or -floor"},
		{o.batch > 0 || o.fanout, "-fault takes one request per notification: not with -batch or -fanout"},
		{o.procs > 0 || o.sockets > maxSocketsPerProcess, fmt.Sprintf("-fault holds its sockets in the tool's own process: no -procs, at most %d sockets", maxSocketsPerProcess)},
		{o.faultAt <= 0 || o.faultAt >= o.duration, "-fault-at must be within -duration"},
		{o.faultDown < 0, "-fault-down must not be negative"},
		{o.fault == faultPGTerm && broker != "postgres", "-fault pgterm needs the postgres broker"},
		{o.fault == faultNATSRestart && broker != "nats", "-fault natsrestart needs -broker nats"},
	}
}

// clusterOn reports whether the started instances run in cluster mode.
func (o options) clusterOn() bool { return o.cluster || o.start >= 2 }

// endpoint is one notifyd instance.
type endpoint struct {
	HTTP string `json:"http"`
	WS   string `json:"ws"`
}

// endpoints lists the instances given by -http and -ws: comma-separated,
// in the same order, for several instances of one cluster.
func (o options) endpoints() []endpoint {
	https, wss := strings.Split(o.httpURL, ","), strings.Split(o.wsURL, ",")
	out := make([]endpoint, len(https))
	for i := range https {
		out[i] = endpoint{HTTP: strings.TrimRight(strings.TrimSpace(https[i]), "/"), WS: strings.TrimSpace(wss[i])}
	}
	return out
}

// checkEndpoints checks the -http and -ws lists.
func checkEndpoints(httpList, wsList string) error {
	https, wss := strings.Split(httpList, ","), strings.Split(wsList, ",")
	if len(https) != len(wss) {
		return fmt.Errorf("-http lists %d instances but -ws %d: give both in the same order", len(https), len(wss))
	}
	for i := range https {
		if err := checkURL("-http", strings.TrimSpace(https[i]), "http", "https"); err != nil {
			return err
		}
		if err := checkURL("-ws", strings.TrimSpace(wss[i]), "ws", "wss"); err != nil {
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
	return fmt.Errorf("%s: want %s://host[:port]..., got %q", flagName, schemes[0], u.Redacted())
}

// configSummary echoes the run's parameters in the summary (not the key).
type configSummary struct {
	HTTP            string  `json:"http,omitempty"`
	WS              string  `json:"ws,omitempty"`
	Users           int     `json:"users"`
	Sockets         int     `json:"sockets"`
	Rate            float64 `json:"rate"`
	Publishers      int     `json:"publishers"`
	Duration        float64 `json:"duration_s"`
	Batch           int     `json:"batch"`
	Fanout          bool    `json:"fanout"`
	Prefix          string  `json:"prefix,omitempty"`
	ConnectRate     float64 `json:"connect_rate"`
	IdempotencyKeys bool    `json:"idempotency_keys"`
	BaselinesFirst  bool    `json:"baselines_first,omitempty"` // -floor and -raw ran before notifyd
	Isolated        bool    `json:"isolated,omitempty"`        // each target's client ran in a process of its own
	Started         int     `json:"started,omitempty"`         // notifyd processes started by the tool
	Cluster         bool    `json:"cluster,omitempty"`
	Broker          string  `json:"broker,omitempty"`
	PublishTo       string  `json:"publish_to,omitempty"` // with several instances
	Fault           string  `json:"fault,omitempty"`
	FaultAt         float64 `json:"fault_at_s,omitempty"`
	FaultDown       float64 `json:"fault_down_s,omitempty"`
}

func (o options) summary() configSummary {
	c := configSummary{
		Users: o.users, Sockets: o.sockets, Rate: o.rate, Publishers: o.publishers,
		Duration: o.duration.Seconds(), Batch: o.batch, Fanout: o.fanout, ConnectRate: o.connectRate,
		IdempotencyKeys: o.keys, BaselinesFirst: o.baselinesFirst, Isolated: o.isolated(),
	}
	if !o.notifyd {
		return c
	}
	c.Prefix = o.prefix
	if o.start == 0 {
		c.HTTP, c.WS = o.httpURL, o.wsURL
	} else {
		c.Started, c.Cluster, c.Broker = o.start, o.clusterOn(), o.broker
		c.Fault = o.fault
		if o.fault != "" {
			c.FaultAt, c.FaultDown = o.faultAt.Seconds(), o.faultDown.Seconds()
		}
	}
	if o.start > 1 || len(o.endpoints()) > 1 {
		c.PublishTo = o.publishTo
	}
	return c
}
