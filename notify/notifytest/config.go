package notifytest

import (
	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/notify"
)

// HubConfig returns the hub settings of config.Default (ws.send_queue and
// ws.max_connections_per_user), for tests that do not tune them: NewHub
// has no defaults of its own.
func HubConfig() notify.HubConfig {
	ws := config.Default().WS
	return notify.HubConfig{SendQueue: ws.SendQueue, MaxPerUser: ws.MaxConnectionsPerUser}
}

// BatchConfig returns the group-commit limits of config.Default
// (database.batch_max_rows and database.batch_max_wait), for tests of the
// Service as production runs it: a Service commits each call alone until
// NewService.
func BatchConfig() notify.BatchConfig {
	db := config.Default().Database
	return notify.BatchConfig{MaxRows: db.BatchMaxRows, MaxWait: db.BatchMaxWait.D()}
}

// ReceiverConfig returns the gap wait and audit intervals of
// config.Default (cluster.gap_wait, cluster.audit_interval and
// cluster.session_audit_interval): NewReceiver has no defaults of its own.
func ReceiverConfig() notify.ReceiverConfig {
	c := config.Default().Cluster
	return notify.ReceiverConfig{GapWait: c.GapWait.D(), Audit: c.AuditInterval.D(), SessionAudit: c.SessionAuditInterval.D()}
}

// SweeperConfig returns the [retention] section of config.Default and its
// publisher.idempotency_ttl as a SweeperConfig: NewSweeper has no defaults
// of its own.
func SweeperConfig() notify.SweeperConfig {
	d := config.Default()
	r := d.Retention
	return notify.SweeperConfig{ReadAfter: r.ReadAfter.D(), UnreadAfter: r.UnreadAfter.D(), Interval: r.Interval.D(),
		IdempotencyTTL: d.Publisher.IdempotencyTTL.D(), Batch: r.BatchSize, Pause: r.BatchPause.D()}
}

// AccountsConfig returns the [auth] settings of config.Default as an
// AccountsConfig (production password cost: tests that hash often set a
// cheap Password). NewAccounts has no defaults of its own.
func AccountsConfig() notify.AccountsConfig {
	a := config.Default().Auth
	return notify.AccountsConfig{SessionTTL: a.SessionTTL.D(), HashConcurrency: a.HashConcurrency,
		HashQueue: a.HashQueue, MaxSessionsPerUser: a.MaxSessionsPerUser}
}
