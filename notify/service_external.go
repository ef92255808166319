package notify

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// Notifications for users the app names by its own id (the publisher API).
// The store resolves an external id to a user inside the transaction that
// stores the notification, creating the user when it is new, so the
// notification is waiting when that person first connects.

// NotifyExternal stores n for the user the app names externalID, creating
// that user if needed in the same transaction, then pushes it to the
// user's open sockets.
func (s *Service) NotifyExternal(ctx context.Context, externalID string, n NewNotification) (Notification, error) {
	if err := ValidateExternalID("external_id", externalID); err != nil {
		return Notification{}, err
	}
	if err := n.Normalize(); err != nil {
		return Notification{}, err
	}
	rows, err := s.insert(ctx, []NewItem{{ExternalID: externalID, NewNotification: n}})
	if err != nil {
		return Notification{}, fmt.Errorf("notify: insert: %w", err)
	}
	s.hub.Metrics().NotificationsCreated(PathSingle, 1)
	return rows[0].Notification, nil
}

// NotifyManyExternal stores one copy of n for each of externalIDs (1 to
// MaxBulkUsers; duplicates merged, unknown ids created) in one
// transaction, then pushes each, and returns how many it created: the
// number of distinct ids.
func (s *Service) NotifyManyExternal(ctx context.Context, externalIDs []string, n NewNotification) (int, error) {
	if len(externalIDs) == 0 || len(externalIDs) > MaxBulkUsers {
		return 0, Errorf(EINVALID, "user_ids: must hold 1 to %d external ids", MaxBulkUsers)
	}
	for _, id := range externalIDs {
		if err := ValidateExternalID("user_ids", id); err != nil {
			return 0, err
		}
	}
	if err := n.Normalize(); err != nil {
		return 0, err
	}
	ids := slices.Clone(externalIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	items := make([]NewItem, len(ids))
	for i, id := range ids {
		items[i] = NewItem{ExternalID: id, NewNotification: n}
	}
	rows, err := s.insert(ctx, items)
	if err != nil {
		return 0, fmt.Errorf("notify: insert many: %w", err)
	}
	created := 0
	for _, r := range rows {
		if r.ID != 0 {
			created++
		}
	}
	s.hub.Metrics().NotificationsCreated(PathBulk, created)
	return created, nil
}

// maxKnownExternal bounds the cache of external ids (about 100 bytes an
// entry): past it, entries are dropped at random.
const maxKnownExternal = 1 << 16

// knownExternal caches the user id of external ids already stored. Users
// are never deleted and an external id never changes, so an entry never
// goes stale. The committer uses it to lock the per-user stripes of a
// batch before its transaction, as for any other user (see commit).
type knownExternal struct {
	mu  sync.Mutex
	ids map[string]int64
}

// resolve fills in the UserID of items named by a cached external id and
// reports whether every item now has one.
func (k *knownExternal) resolve(items []NewItem) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	all := true
	for i := range items {
		if items[i].ExternalID == "" {
			continue
		}
		id, ok := k.ids[items[i].ExternalID]
		if !ok {
			all = false
			continue
		}
		items[i].UserID = id
	}
	return all
}

// learn records the user ids the store gave to the external ids of items.
func (k *knownExternal) learn(items []NewItem, rows []Inserted) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.ids == nil {
		k.ids = make(map[string]int64)
	}
	for i, it := range items {
		if it.ExternalID == "" || rows[i].UserID == 0 {
			continue
		}
		if len(k.ids) >= maxKnownExternal {
			for drop := range k.ids { // map order: a random entry
				delete(k.ids, drop)
				break
			}
		}
		k.ids[it.ExternalID] = rows[i].UserID
	}
}
