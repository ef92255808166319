package notify

import "time"

// Observer is what the domain reports about itself: the few events an
// operator counts. Package metrics implements it on Prometheus; the
// domain knows no metrics library. Every method must be cheap and must
// not block: some are called with a subscriber's lock held.
type Observer interface {
	// QueueFull: a socket was closed because it read too slowly, for
	// reason (ReasonQueueFull, ReasonReplayOverflow).
	QueueFull(reason string)
	// NotificationsCreated: n notifications were committed through path
	// (PathSingle, PathBulk).
	NotificationsCreated(path string, n int)
	// CatchUpRows: n notifications were delivered by a catch-up query.
	CatchUpRows(n int)
	// RetentionDeleted: the sweeper deleted n rows of kind (RetentionRead,
	// RetentionUnread, RetentionSession, RetentionIdempotencyKey).
	RetentionDeleted(kind string, n int64)
	// DuplicateDropped: the Receiver dropped a change already delivered.
	DuplicateDropped()
	// Repaired: the Receiver caught n users up from the database for
	// cause (RepairGap, RepairAudit, RepairReconnect).
	Repaired(cause string, n int)
	// DeliveryLag: the cluster broker's delivery lag (ReportLag).
	DeliveryLag(d time.Duration)
	// BatchStored: the transaction of one group-commit batch (the store's
	// InsertBatch) returned after d, committed or not. Beside the delivery
	// latency it tells a slow database from a slow fan-out.
	BatchStored(d time.Duration)
	// BatchWaited: one call waited d from being queued until its batch's
	// transaction started (group commit's wait, the users' locks
	// included). Beside BatchStored and the delivery latency it splits a
	// publish's latency by stage.
	BatchWaited(d time.Duration)
}

// Values of the Observer's labels, fixed so that no client input can grow
// the number of series.
const (
	// Reasons of QueueFull.
	ReasonQueueFull      = "queue_full"      // the live send queue was full
	ReasonReplayOverflow = "replay_overflow" // more frames arrived during the replay than the queue holds

	// Paths of NotificationsCreated.
	PathSingle = "single" // Service.Notify
	PathBulk   = "bulk"   // Service.NotifyMany

	// Kinds of RetentionDeleted.
	RetentionRead    = "read_notifications"
	RetentionUnread  = "unread_notifications"
	RetentionSession = "expired_sessions"
	// RetentionIdempotencyKey counts the publisher's expired idempotency keys.
	RetentionIdempotencyKey = "idempotency_keys"

	// Causes of Repaired.
	RepairGap       = "gap"       // a change arrived with a seq above the next one
	RepairAudit     = "audit"     // the audit found a user's last change missing
	RepairReconnect = "reconnect" // the broker reconnected
)

// NopObserver observes nothing. The constructors that take an Observer use
// it when given nil, so that tests need not build one and the domain
// needs no nil check.
type NopObserver struct{}

// QueueFull does nothing.
func (NopObserver) QueueFull(string) {}

// NotificationsCreated does nothing.
func (NopObserver) NotificationsCreated(string, int) {}

// CatchUpRows does nothing.
func (NopObserver) CatchUpRows(int) {}

// RetentionDeleted does nothing.
func (NopObserver) RetentionDeleted(string, int64) {}

// DuplicateDropped does nothing.
func (NopObserver) DuplicateDropped() {}

// Repaired does nothing.
func (NopObserver) Repaired(string, int) {}

// DeliveryLag does nothing.
func (NopObserver) DeliveryLag(time.Duration) {}

// BatchStored does nothing.
func (NopObserver) BatchStored(time.Duration) {}

// BatchWaited does nothing.
func (NopObserver) BatchWaited(time.Duration) {}

// observerOr returns o, or NopObserver when o is nil.
func observerOr(o Observer) Observer {
	if o == nil {
		return NopObserver{}
	}
	return o
}
