package notify

import (
	"context"
	"fmt"
	"sync"
)

// Notifications for users the app names by its own id (the publisher API).
// The store resolves an external id to a user inside the transaction that
// stores the notification, creating the user when it is new, so the
// notification is waiting when that person first connects.

// NotifyExternal stores n for the user the app names externalID, creating
// that user if needed in the same transaction, then pushes it to the
// user's open sockets. With idem, it does so at most once per key: a
// request whose key is already taken gets the stored answer (Replayed)
// and nothing is created or pushed, or EIDEMPOTENCY when the key was used
// for another request.
func (s *Service) NotifyExternal(ctx context.Context, externalID string, n NewNotification, idem *Idempotency) (Notification, *Replayed, error) {
	if err := ValidateExternalID("external_id", externalID); err != nil {
		return Notification{}, nil, err
	}
	if err := n.Normalize(); err != nil {
		return Notification{}, nil, err
	}
	rows, replayed, err := s.create(ctx, []NewItem{{ExternalID: externalID, NewNotification: n}}, idem)
	if err != nil || replayed != nil {
		return Notification{}, replayed, err
	}
	s.hub.cfg.Observer.NotificationsCreated(PathSingle, 1)
	return rows[0].Notification, nil, nil
}

// NotifyManyExternal stores one copy of n for each of externalIDs (1 to
// MaxBulkUsers; duplicates merged, unknown ids created) in one
// transaction, then pushes each, and returns how many it created: the
// number of distinct ids. idem works as for NotifyExternal.
func (s *Service) NotifyManyExternal(ctx context.Context, externalIDs []string, n NewNotification, idem *Idempotency) (int, *Replayed, error) {
	if err := ValidateBulkExternalIDs(externalIDs); err != nil {
		return 0, nil, err
	}
	if err := n.Normalize(); err != nil {
		return 0, nil, err
	}
	items := bulkItems(externalIDs, n, func(it *NewItem, id string) { it.ExternalID = id })
	rows, replayed, err := s.create(ctx, items, idem)
	if err != nil || replayed != nil {
		return 0, replayed, err
	}
	created := Created(rows)
	s.hub.cfg.Observer.NotificationsCreated(PathBulk, created)
	return created, nil, nil
}

// create stores items, at most once per key when idem is set: while
// another request with the key runs here, it waits for it to end; then the
// key is claimed in the transaction that would store the items: a key
// already stored (by this instance or another) stores nothing and answers
// with what is stored with it (or EIDEMPOTENCY). The database decides.
func (s *Service) create(ctx context.Context, items []NewItem, idem *Idempotency) ([]Inserted, *Replayed, error) {
	if idem == nil {
		rows, _, err := s.insert(ctx, items, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("notify: insert: %w", err)
		}
		return rows, nil, nil
	}
	end, err := s.flights.begin(ctx, idem)
	if err != nil {
		return nil, nil, err
	}
	defer end()
	// No read of the key first: the claim in the transaction tells a key
	// already taken and carries the answer stored with it, so a first
	// request costs no extra round trip and a retry one batch slot.
	rows, outcome, err := s.insert(ctx, items, idem)
	if err != nil {
		return nil, nil, fmt.Errorf("notify: insert: %w", err)
	}
	if !outcome.Won {
		replayed, err := outcome.replay(idem)
		return nil, replayed, err
	}
	return rows, nil, nil
}

// maxKnownExternal bounds the cache of external ids (about 100 bytes an
// entry): past it, entries are dropped at random.
const maxKnownExternal = 1 << 16

// ExternalIDs caches the user id of external ids already stored. Users
// are never deleted and an external id never changes, so an entry never
// goes stale. The committer uses it to lock the per-user stripes of a
// batch before its transaction, as for any other user (see commit); an id
// it does not know costs a read first (resolveUsers). One value is shared
// by Service and Accounts, which records the external users it reads or
// creates (a publisher's user sync, a token's user), so that the first
// notification to such a user needs no read. Its zero value is empty and
// ready.
type ExternalIDs struct {
	mu  sync.Mutex
	ids map[string]int64
}

// resolve fills in the UserID of items named by a cached external id and
// returns the external ids it does not know.
func (k *ExternalIDs) resolve(items []NewItem) []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var missing []string
	for i := range items {
		if items[i].ExternalID == "" {
			continue
		}
		id, ok := k.ids[items[i].ExternalID]
		if !ok {
			missing = append(missing, items[i].ExternalID)
			continue
		}
		items[i].UserID = id
	}
	return missing
}

// add records user ids read from the store.
func (k *ExternalIDs) add(ids map[string]int64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.ids == nil {
		k.ids = make(map[string]int64)
	}
	for ext, id := range ids {
		k.put(ext, id)
	}
}

// put records one entry, dropping a random one when full. Call with mu
// held.
func (k *ExternalIDs) put(ext string, id int64) {
	if len(k.ids) >= maxKnownExternal {
		for drop := range k.ids { // map order: a random entry
			delete(k.ids, drop)
			break
		}
	}
	k.ids[ext] = id
}

// resolveUsers fills in the UserID of every item named by an external id
// that exists, from the cache or else from the store (one read for the
// batch), and reports whether every item has one now. An id still
// unknown belongs to a user the batch's transaction creates.
func (s *Service) resolveUsers(items []NewItem) bool {
	missing := s.external.resolve(items)
	if len(missing) == 0 {
		return true
	}
	ids, err := s.store.ExternalUserIDs(context.Background(), missing)
	if err != nil {
		// The insert will fail too, or create them: lock every stripe.
		return false
	}
	s.external.add(ids)
	return len(s.external.resolve(items)) == 0
}

// learnUser records u's id when u is an external user.
func (k *ExternalIDs) learnUser(u User) {
	if u.ExternalID == "" {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.ids == nil {
		k.ids = make(map[string]int64)
	}
	k.put(u.ExternalID, u.ID)
}

// externalOr returns k, or an ExternalIDs of its own when k is nil.
func externalOr(k *ExternalIDs) *ExternalIDs {
	if k == nil {
		return &ExternalIDs{}
	}
	return k
}

// learn records the user ids the store gave to the external ids of items.
func (k *ExternalIDs) learn(items []NewItem, rows []Inserted) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.ids == nil {
		k.ids = make(map[string]int64)
	}
	for i, it := range items {
		if it.ExternalID == "" || rows[i].UserID == 0 {
			continue
		}
		k.put(it.ExternalID, rows[i].UserID)
	}
}

// ValidateBulkExternalIDs checks the user_ids of a bulk call by external
// id: 1 to MaxBulkUsers ids, each a valid external id.
func ValidateBulkExternalIDs(ids []string) error {
	if err := checkBulkSize(len(ids)); err != nil {
		return err
	}
	for _, id := range ids {
		if err := ValidateExternalID("user_ids", id); err != nil {
			return err
		}
	}
	return nil
}

// checkBulkSize is the one rule on the size of a bulk call's user_ids,
// whichever ids it names.
func checkBulkSize(n int) error {
	if n == 0 || n > MaxBulkUsers {
		return Errorf(EINVALID, "user_ids: must hold 1 to %d ids", MaxBulkUsers)
	}
	return nil
}
