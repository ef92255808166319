package main

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestParseFlags(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		name    string
		args    []string
		env     string // NOTIFYBENCH_KEY
		wantErr string // a word of the message: the flag at fault
	}{
		{"defaults with a key", []string{"-key", "k"}, "", ""},
		{"key from the environment", nil, "k", ""},
		{"raw only needs no key", []string{"-notifyd=false", "-raw"}, "", ""},
		{"notifyd needs a key", nil, "", "-key"},
		{"nothing to run", []string{"-notifyd=false"}, "", "-raw"},
		{"batch above users", []string{"-key", "k", "-users", "5", "-batch", "6"}, "", "-batch"},
		{"batch above the bulk limit", []string{"-key", "k", "-users", "2000", "-batch", "1001"}, "", "-batch"},
		{"fanout with batch", []string{"-key", "k", "-fanout", "-batch", "2"}, "", "-fanout"},
		{"http scheme", []string{"-key", "k", "-http", "ws://127.0.0.1:8000"}, "", "-http"},
		{"ws scheme", []string{"-key", "k", "-ws", "http://127.0.0.1:8001/ws"}, "", "-ws"},
		{"timeout shorter than duration", []string{"-key", "k", "-duration", "1m", "-timeout", "30s"}, "", "-timeout"},
		{"bad prefix", []string{"-key", "k", "-prefix", "no spaces"}, "", "-prefix"},
		{"no users", []string{"-key", "k", "-users", "0"}, "", "-users"},
		{"stray argument", []string{"-key", "k", "extra"}, "", "unexpected"},
		{"floor and raw need no key", []string{"-notifyd=false", "-floor", "-raw"}, "", ""},
		{"baselines first without a baseline", []string{"-key", "k", "-baselines-first"}, "", "-baselines-first"},
		{"two instances given", []string{"-key", "k", "-http", "http://a:1,http://b:1", "-ws", "ws://a:2/ws,ws://b:2/ws"}, "", ""},
		{"instance lists differ", []string{"-key", "k", "-http", "http://a:1,http://b:1"}, "", "-ws"},
		{"floor with batch", []string{"-key", "k", "-floor", "-batch", "2"}, "", "-floor"},
		{"start without a binary", []string{"-start", "2"}, "", "-notifyd-bin"},
		{"start too many", []string{"-start", "9", "-notifyd-bin", "x"}, "", "-start"},
		{"cluster without start", []string{"-key", "k", "-cluster"}, "", "-start"},
		{"broker without cluster", []string{"-start", "1", "-notifyd-bin", "x", "-broker", "nats"}, "", "-broker"},
		{"bad publish-to", []string{"-key", "k", "-publish-to", "some"}, "", "-publish-to"},
		{"bad notifyd-env", []string{"-start", "1", "-notifyd-bin", "x", "-notifyd-env", "novalue"}, "", "KEY=VALUE"},
		{"db scheme", []string{"-notifyd=false", "-floor", "-db", "mysql://x/y"}, "", "-db"},
		{"fault unknown", []string{"-start", "2", "-notifyd-bin", "x", "-fault", "reboot"}, "", "-fault"},
		{"fault on one instance", []string{"-start", "1", "-notifyd-bin", "x", "-fault", "kill"}, "", "-start 2"},
		{"fault with raw", []string{"-start", "2", "-notifyd-bin", "x", "-fault", "kill", "-raw"}, "", "-raw"},
		{"fault with children", []string{"-start", "2", "-notifyd-bin", "x", "-fault", "kill", "-procs", "2"}, "", "-procs"},
		{"fault after publishing", []string{"-start", "2", "-notifyd-bin", "x", "-fault", "kill", "-duration", "5s"}, "", "-fault-at"},
		{"pgterm on nats", []string{"-start", "2", "-notifyd-bin", "x", "-fault", "pgterm", "-broker", "nats"}, "", "postgres broker"},
		{"profile without start", []string{"-key", "k", "-profile", "/tmp/x"}, "", "-start 1"},
		{"profile of two instances", []string{"-start", "2", "-notifyd-bin", "x", "-profile", "/tmp/x"}, "", "-start 1"},
		{"profile with a fault", []string{"-start", "1", "-notifyd-bin", "x", "-profile", "/tmp/x", "-fault", "kill"}, "", "-fault"},
		{"only an unknown target", []string{"-key", "k", "-only", "centrifugo"}, "", "-only"},
		{"natsrestart on postgres", []string{"-start", "2", "-notifyd-bin", "x", "-fault", "natsrestart"}, "", "-broker nats"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env["NOTIFYBENCH_KEY"] = tt.env
			o, err := parseFlags(tt.args, getenv, io.Discard)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("parseFlags: %v", err)
				}
				if o.notifyd && o.key != "k" {
					t.Errorf("key = %q, want k", o.key)
				}
				if !strings.HasPrefix(o.prefix, "bench-") || len(o.prefix) != len("bench-")+6 {
					t.Errorf("default prefix = %q, want bench- and 6 random characters", o.prefix)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("parseFlags error = %v, want one naming %s", err, tt.wantErr)
			}
		})
	}
}

// TestStartMakesAKey: started instances get a fresh publisher key, so
// -start needs none.
func TestStartMakesAKey(t *testing.T) {
	o, err := parseFlags([]string{"-start", "2", "-notifyd-bin", "/tmp/notifyd", "-broker", "postgres"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.key) < 32 || !o.clusterOn() {
		t.Errorf("key %q (want 32 characters or more), cluster %v (want on)", o.key, o.clusterOn())
	}
}

// TestFaultSendsKeys: a -fault run retries creates through the fault,
// which only an Idempotency-Key makes safe.
func TestFaultSendsKeys(t *testing.T) {
	o, err := parseFlags([]string{"-start", "2", "-notifyd-bin", "/tmp/notifyd", "-fault", "kill"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !o.keys || o.summary().Fault != "kill" {
		t.Errorf("keys %v (want on), summary fault %q (want kill)", o.keys, o.summary().Fault)
	}
}

func TestRunUsageErrorExitCode(t *testing.T) {
	err := run(t.Context(), []string{"-users", "0", "-key", "k"}, func(string) string { return "" },
		strings.NewReader(""), io.Discard, io.Discard)
	var ue usageError
	if !errors.As(err, &ue) {
		t.Fatalf("run with a bad flag = %v, want a usageError (exit 2)", err)
	}
}

// TestTargets checks the order of the targets and which run in a process
// of their own: a target's process (-only) runs its one target, whatever
// else the shared command line asks for.
func TestTargets(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		want     []string
		isolated bool
	}{
		{"notifyd alone", []string{"-key", "k"}, []string{"notifyd"}, false},
		{"notifyd, then the baselines", []string{"-key", "k", "-floor", "-raw"}, []string{"notifyd", "floor", "raw"}, true},
		{"the baselines first", []string{"-key", "k", "-floor", "-raw", "-baselines-first"}, []string{"floor", "raw", "notifyd"}, true},
		{"one client process", []string{"-key", "k", "-raw", "-isolate=false"}, []string{"notifyd", "raw"}, false},
		{"the floor's process", []string{"-only", "floor", "-key", "k", "-floor", "-raw", "-baselines-first"}, []string{"floor"}, false},
		{"notifyd's process", []string{"-only", "notifyd", "-key", "k", "-raw"}, []string{"notifyd"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseFlags(tt.args, func(string) string { return "" }, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if got := o.targets(); !slices.Equal(got, tt.want) || o.isolated() != tt.isolated {
				t.Errorf("targets %q, isolated %v; want %q, %v", got, o.isolated(), tt.want, tt.isolated)
			}
		})
	}
}
