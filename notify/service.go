package notify

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// MaxBulkUsers bounds NotifyMany.
const MaxBulkUsers = 1000

// NotificationStore is what Service needs from the database. It is
// implemented by store.Store; errors carry notify codes (ENOTFOUND,
// EUNAVAILABLE...). Every write also returns the user's unread count and
// change sequence (Stamp), read in the same transaction under the user's
// lock, so the count pushed matches what was committed and receivers can
// tell a missed change (broker.go).
type NotificationStore interface {
	// InsertBatch stores one row per item whose user exists, in one
	// transaction, with one multi-row INSERT per chunk. Per user, ids
	// follow the order of items and commit order (the user rows are
	// locked first). It returns one Inserted per item, in the order of
	// items; an item whose user does not exist has ID 0. Items named by
	// external id create their user if needed.
	//
	// Each claim's key is claimed in the same transaction: the items of a
	// claim whose key is already taken are not stored (ID 0), and its
	// outcome carries the answer stored with the key; a won claim stores
	// its Answer. One outcome per claim, in order.
	InsertBatch(ctx context.Context, items []NewItem, claims []Claim, now time.Time) ([]Inserted, []ClaimOutcome, error)
	// ExternalUserIDs returns the user id of each of externalIDs that
	// exists.
	ExternalUserIDs(ctx context.Context, externalIDs []string) (map[string]int64, error)
	// SetRead marks one notification of userID read or unread (ENOTFOUND
	// when it is not that user's).
	SetRead(ctx context.Context, userID, id int64, read bool, now time.Time) (Notification, Stamp, error)
	// MarkAllRead marks the unread notifications of userID with id <= upToID
	// (all of them when upToID is 0) and returns how many changed.
	MarkAllRead(ctx context.Context, userID, upToID int64, now time.Time) (changed int64, st Stamp, err error)
	// DeleteNotification deletes one notification of userID (ENOTFOUND when
	// it is not that user's).
	DeleteNotification(ctx context.Context, userID, id int64) (Stamp, error)
	// CatchUpStore: what a catch-up reads (settle.go, receiver.go).
	CatchUpStore
}

// NewItem is one notification to store for one user, named by UserID or,
// when ExternalID is set and UserID is not (yet) known, by the app's id:
// the store then finds or creates the user, in the same transaction, and
// fills in the UserID of the row it returns.
type NewItem struct {
	UserID     int64
	ExternalID string
	NewNotification
}

// Inserted is the outcome of one NewItem: the stored notification (ID 0
// when the user does not exist) and the user's unread count just after
// it, as if the rows of the batch had been inserted one by one.
type Inserted struct {
	Notification
	Unread int64
	Seq    int64 // the user's seq after this row (users.seq, broker.go)
}

// Stamp is what a change leaves on its user's row, read in the changing
// transaction under the user's lock: the unread count and the change
// sequence (users.seq) just after it.
type Stamp struct {
	Unread int64
	Seq    int64
}

// Service is the single path by which notifications change: it persists,
// then publishes through its Broker to every open socket of the user, on
// this instance or, with a cluster broker, on every instance. The HTTP
// API, the task demo and Go code embedding notifyd all go through it.
type Service struct {
	store  NotificationStore
	hub    *Hub
	broker Broker
	logger *slog.Logger
	now    func() time.Time

	// userLocks serialise the changes of one user from store to broker, so
	// the changes of a user are published in the order they were
	// committed (their Seq order). A socket drops a notification whose id
	// is not above the last one it got; without this, id 7 could be pushed
	// before id 6 and 6 would be lost.
	userLocks [64]sync.Mutex

	// batch groups concurrent Notify and NotifyMany calls into shared
	// transactions (group commit, batcher.go).
	batch *batcher

	// settle tracks the users whose last insert failed without proving
	// that nothing was stored, and catches their sockets up (settle.go).
	settle *settler

	// watches count the sockets of each user on this instance and tell
	// the broker of the first and the last (watch.go).
	watches watches

	// external caches the user ids of external ids, shared with Accounts
	// (service_external.go).
	external *ExternalIDs

	// flights are the idempotency keys being carried out (idempotency.go).
	flights flights
}

// NewService returns a Service that stores in store and publishes through
// broker to the sockets of hub (and of other instances, with a cluster
// broker), grouping concurrent inserts within batch (database.batch_max_rows
// and database.batch_max_wait). Close it to drain the notifications still
// being committed. external is the cache of external ids it shares with
// Accounts; nil: one of its own.
func NewService(store NotificationStore, hub *Hub, broker Broker, batch BatchConfig, logger *slog.Logger, external *ExternalIDs) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{store: store, hub: hub, broker: broker, logger: logger, now: time.Now, external: externalOr(external)}
	s.batch = newBatcher(batch, s.begin)
	s.settle = newSettler(catchUp{store: store, hub: hub}, logger)
	s.watches = watches{broker: broker}
	return s
}

func (s *Service) stripe(userID int64) int {
	return int(uint64(userID) % uint64(len(s.userLocks)))
}

// lockUsers locks the stripes of userIDs in index order, so that two bulk
// calls cannot deadlock, and returns the unlock function.
func (s *Service) lockUsers(userIDs ...int64) func() {
	idx := make([]int, 0, len(userIDs))
	for _, id := range userIDs {
		idx = append(idx, s.stripe(id))
	}
	return s.lockStripes(idx)
}

// lockAllUsers locks every stripe: for a batch that creates users, whose
// ids are not known before its transaction.
func (s *Service) lockAllUsers() func() {
	idx := make([]int, len(s.userLocks))
	for i := range idx {
		idx[i] = i
	}
	return s.lockStripes(idx)
}

func (s *Service) lockStripes(idx []int) func() {
	slices.Sort(idx)
	idx = slices.Compact(idx)
	for _, i := range idx {
		s.userLocks[i].Lock()
	}
	return func() {
		for _, i := range idx {
			s.userLocks[i].Unlock()
		}
	}
}

// Notify stores n for userID, then pushes it to every open socket of that
// user. It fails with EINVALID for bad input and ENOTFOUND for an unknown
// user; nothing is pushed unless the row is committed. Concurrent calls
// share one transaction (group commit, service_batch.go); each gets its
// own row or error.
func (s *Service) Notify(ctx context.Context, userID int64, n NewNotification) (Notification, error) {
	if err := n.Normalize(); err != nil {
		return Notification{}, err
	}
	rows, _, err := s.insert(ctx, []NewItem{{UserID: userID, NewNotification: n}}, nil)
	if err != nil {
		return Notification{}, fmt.Errorf("notify: insert: %w", err)
	}
	if rows[0].ID == 0 {
		return Notification{}, Errorf(ENOTFOUND, "user not found")
	}
	s.hub.cfg.Observer.NotificationsCreated(PathSingle, 1)
	return rows[0].Notification, nil
}

// NotifyMany stores one copy of n for each user in userIDs (duplicates
// merged, unknown users skipped) in one transaction, then pushes each. It
// returns the number of notifications created. The copies are committed
// together, never in part, possibly in a transaction shared with other
// calls.
func (s *Service) NotifyMany(ctx context.Context, userIDs []int64, n NewNotification) (int, error) {
	if err := checkBulkSize(len(userIDs)); err != nil {
		return 0, err
	}
	if err := n.Normalize(); err != nil {
		return 0, err
	}
	items := bulkItems(userIDs, n, func(it *NewItem, id int64) { it.UserID = id })
	rows, _, err := s.insert(ctx, items, nil)
	if err != nil {
		return 0, fmt.Errorf("notify: insert many: %w", err)
	}
	created := Created(rows)
	s.hub.cfg.Observer.NotificationsCreated(PathBulk, created)
	return created, nil
}

// bulkItems is one item of n per distinct id of ids, in id order (merged
// duplicates get one copy); name sets the item's user from an id.
func bulkItems[ID cmp.Ordered](ids []ID, n NewNotification, name func(*NewItem, ID)) []NewItem {
	distinct := slices.Clone(ids)
	slices.Sort(distinct)
	distinct = slices.Compact(distinct)
	items := make([]NewItem, len(distinct))
	for i, id := range distinct {
		items[i].NewNotification = n
		name(&items[i], id)
	}
	return items
}

// Created counts the rows stored (an Inserted with an ID).
func Created(rows []Inserted) int {
	n := 0
	for _, r := range rows {
		if r.ID != 0 {
			n++
		}
	}
	return n
}

// push publishes freshly committed rows to their users' sockets, in the
// order given, which is id (and seq) order. Each frame is serialised once,
// whatever the number of sockets.
func (s *Service) push(rows []Inserted) {
	// The commit has just returned: the publish→socket latency is
	// measured from here, on the wall clock (not s.now, which tests fake).
	at := time.Now()
	changes := make([]Change, 0, len(rows))
	for i := range rows {
		r := &rows[i]
		if r.ID == 0 {
			continue
		}
		// Nothing changes a committed row: its change points at it rather
		// than at a copy of its own (an allocation per notification).
		changes = append(changes, Change{Kind: ChangeNew, User: r.UserID, Seq: r.Seq, At: at, Notification: &r.Notification, Unread: r.Unread})
	}
	s.publish(changes...)
}

// publish hands changes to the broker. A failure to reach the other
// instances is repaired there (a gap or the audit catches their sockets up
// from the database), so it is only logged.
func (s *Service) publish(changes ...Change) {
	if len(changes) == 0 {
		return
	}
	if err := s.broker.Publish(context.Background(), changes); err != nil {
		s.logger.Warn("notify: publish", "changes", len(changes), "error", err)
	}
}

// SetRead marks notification id of userID read (or unread) and tells the
// user's sockets.
func (s *Service) SetRead(ctx context.Context, userID, id int64, read bool) (Notification, error) {
	unlock := s.lockUsers(userID)
	defer unlock()
	n, st, err := s.store.SetRead(ctx, userID, id, read, s.now())
	if err != nil {
		return Notification{}, fmt.Errorf("notify: set read: %w", err)
	}
	s.publish(Change{Kind: ChangeUpdated, User: userID, Seq: st.Seq, At: time.Now(), Notification: &n, Unread: st.Unread})
	return n, nil
}

// MarkAllRead marks every unread notification of userID with id <= upToID
// (all when upToID is 0) as read and tells the user's sockets.
func (s *Service) MarkAllRead(ctx context.Context, userID, upToID int64) (int64, error) {
	unlock := s.lockUsers(userID)
	defer unlock()
	changed, st, err := s.store.MarkAllRead(ctx, userID, upToID, s.now())
	if err != nil {
		return 0, fmt.Errorf("notify: mark all read: %w", err)
	}
	var upTo *int64
	if upToID > 0 {
		upTo = &upToID
	}
	s.publish(Change{Kind: ChangeReadAll, User: userID, Seq: st.Seq, At: time.Now(), UpTo: upTo, Unread: st.Unread})
	return changed, nil
}

// Delete deletes notification id of userID and tells the user's sockets.
func (s *Service) Delete(ctx context.Context, userID, id int64) error {
	unlock := s.lockUsers(userID)
	defer unlock()
	st, err := s.store.DeleteNotification(ctx, userID, id)
	if err != nil {
		return fmt.Errorf("notify: delete: %w", err)
	}
	s.publish(Change{Kind: ChangeDeleted, User: userID, Seq: st.Seq, At: time.Now(), ID: id, Unread: st.Unread})
	return nil
}
