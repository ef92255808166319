package store

import (
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/notifyd/notifyd/notify"
)

// External users created by a notification. A publisher may name a user
// notifyd has never seen: the user is created in the transaction that
// stores the notification, so it is waiting at that person's first visit
// and nothing is left behind when the transaction fails.

// unresolved reports whether the store must find (or create) the user of
// it by its external id: the service fills in the UserID of external ids
// it already knows, and those need no lookup.
func unresolved(it notify.NewItem) bool { return it.ExternalID != "" && it.UserID == 0 }

// externalIDs returns the distinct unresolved external ids of items,
// sorted: the order in which they are inserted, so two transactions
// creating the same users cannot deadlock.
func externalIDs(items []notify.NewItem) []string {
	var ids []string
	for _, it := range items {
		if unresolved(it) {
			ids = append(ids, it.ExternalID)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// resolveExternal sets the UserID of every unresolved item from
// byExternal, on a copy of items (the caller's slice is left alone).
func resolveExternal(items []notify.NewItem, byExternal map[string]int64) []notify.NewItem {
	out := slices.Clone(items)
	for i := range out {
		if unresolved(out[i]) {
			out[i].UserID = byExternal[out[i].ExternalID]
		}
	}
	return out
}

// ensureExternalSQLite creates the users of ids that do not exist yet and
// returns the user id of each, inside tx.
func ensureExternalSQLite(tx *gorm.DB, ids []string, created time.Time) (map[string]int64, error) {
	out := make(map[string]int64, len(ids))
	for _, chunk := range chunks(ids, maxIDsPerQuery/2) {
		args := make([]any, 0, 2*len(chunk))
		for _, id := range chunk {
			args = append(args, id, created)
		}
		sql := "INSERT INTO users (username, external_id, created_at) VALUES " +
			valuesList("('', ?, ?)", len(chunk)) + " ON CONFLICT (external_id) DO NOTHING"
		if err := tx.Exec(sql, args...).Error; err != nil {
			return nil, err
		}
		var rows []struct {
			ID         int64
			ExternalID string
		}
		if err := tx.Raw("SELECT id, external_id FROM users WHERE external_id IN ?", chunk).Scan(&rows).Error; err != nil {
			return nil, err
		}
		for _, r := range rows {
			out[r.ExternalID] = r.ID
		}
	}
	return out, nil
}
