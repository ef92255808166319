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
