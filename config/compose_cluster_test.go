package config_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/config"
)

// TestDockerComposeCluster: the "cluster" profile runs two notifyd
// instances on the db service and a nats service, each a valid
// configuration with the NATS broker and the .env's cluster secret, on
// host ports of their own, published on 127.0.0.1 only.
func TestDockerComposeCluster(t *testing.T) {
	f := readCompose(t)
	nats := f.service(t, "nats")
	if !strings.HasPrefix(nats.Image, "nats:") || !slices.Equal(nats.Profiles, []string{"cluster"}) {
		t.Errorf("nats: image %q, profiles %q; want the nats image in the cluster profile", nats.Image, nats.Profiles)
	}
	if len(nats.Ports) != 0 {
		t.Errorf("nats publishes %q: it must stay on the compose network", nats.Ports)
	}
	if len(nats.Healthcheck.Test) == 0 {
		t.Error("nats has no healthcheck for the instances to wait on")
	}
	if _, ok := f.Services["notifyd"]; !ok || len(f.Services["notifyd"].Profiles) != 0 {
		t.Error("the single-instance notifyd must stay the default service")
	}
	dotEnv := map[string]string{
		"NOTIFYD_AUTH_API_KEYS":  strings.Repeat("7f", 32),
		"NOTIFYD_CLUSTER_SECRET": strings.Repeat("c3", 32),
	}
	var hostPorts []string
	for _, name := range []string{"notifyd-a", "notifyd-b"} {
		svc := f.service(t, name)
		if !slices.Equal(svc.Profiles, []string{"cluster"}) || svc.Build != "." {
			t.Errorf("%s: profiles %q, build %q; want the cluster profile, built from .", name, svc.Profiles, svc.Build)
		}
		for _, dep := range []string{"db", "nats"} {
			if c := svc.DependsOn[dep].Condition; c != "service_healthy" {
				t.Errorf("%s depends_on %s = %q, want service_healthy", name, dep, c)
			}
		}
		vars := map[string]string{}
		for k, v := range svc.Environment {
			vars[k] = interpolate(v, dotEnv)
		}
		got, err := config.Load(writeFile(t, ""), true, env(vars))
		if err != nil {
			t.Fatalf("%s: the compose environment does not load: %v", name, err)
		}
		if got.Cluster.Broker != config.BrokerNATS || got.Cluster.NATS.URL != "nats://nats:4222" ||
			got.Cluster.Secret != dotEnv["NOTIFYD_CLUSTER_SECRET"] || !strings.Contains(got.Database.URL, "@db:5432/notifyd") {
			t.Errorf("%s: broker %q, nats url %q, database on db %v, secret from .env %v", name, got.Cluster.Broker,
				got.Cluster.NATS.URL, strings.Contains(got.Database.URL, "@db:5432/"), got.Cluster.Secret == dotEnv["NOTIFYD_CLUSTER_SECRET"])
		}
		for _, p := range svc.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("%s port %q is published on every interface", name, p)
			}
			host, _, _ := strings.Cut(strings.TrimPrefix(p, "127.0.0.1:"), ":")
			hostPorts = append(hostPorts, host)
		}
	}
	slices.Sort(hostPorts)
	if len(hostPorts) != 6 || len(slices.Compact(hostPorts)) != 6 {
		t.Errorf("host ports %q: want three distinct ones per instance", hostPorts)
	}
	// Without the cluster secret an instance refuses to start, naming it.
	vars := map[string]string{}
	for k, v := range f.Services["notifyd-a"].Environment {
		vars[k] = interpolate(v, map[string]string{"NOTIFYD_AUTH_API_KEYS": dotEnv["NOTIFYD_AUTH_API_KEYS"]})
	}
	_, err := config.Load(writeFile(t, ""), true, env(vars))
	wantKeys(t, err, "cluster.secret")
}
