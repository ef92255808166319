package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/notifyd/notifyd/migrations"
	"github.com/notifyd/notifyd/notify"
)

// EnableDoorbell turns on cluster mode: from then on every transaction
// that creates, changes or deletes notifications ends with a NOTIFY on
// notify.DoorbellChannel (one per payload, never one per socket), sent
// inside the transaction so that doorbells reach every listener in commit
// order, and only for what was committed. Postgres only. Call it once,
// before the store is shared.
func (s *Store) EnableDoorbell() error {
	if s.dialect != migrations.Postgres {
		return errors.New("store: enable doorbell: cluster mode needs Postgres")
	}
	s.doorbell = true
	return nil
}

// Broadcast commits bells in a transaction of their own: logouts and live
// events, which change no notification. An event too large for a NOTIFY
// payload is stored in cluster_events and announced by its row id. It
// fails unless EnableDoorbell was called.
func (s *Store) Broadcast(ctx context.Context, bells ...notify.Doorbell) error {
	if !s.doorbell {
		return errors.New("store: broadcast: doorbell not enabled")
	}
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	err := db.Transaction(func(tx *gorm.DB) error {
		return s.ring(tx, bells...)
	})
	return translate(ctx, "broadcast", err)
}

// ring sends bells inside tx, when the doorbell is on. A new-notifications
// bell may take several payloads; they are sent in order, in tx.
func (s *Store) ring(tx *gorm.DB, bells ...notify.Doorbell) error {
	if !s.doorbell {
		return nil
	}
	for _, b := range bells {
		payloads, err := b.Payloads()
		if errors.Is(err, notify.ErrDoorbellTooLarge) && b.Kind == notify.BellEvent {
			b, err = storeEvent(tx, b)
			if err != nil {
				return err
			}
			payloads, err = b.Payloads()
		}
		if err != nil {
			return fmt.Errorf("doorbell %q: %w", b.Kind, err)
		}
		for _, p := range payloads {
			if err := tx.Exec("SELECT pg_notify(?, ?)", notify.DoorbellChannel, p).Error; err != nil {
				return err
			}
		}
	}
	return nil
}

// storeEvent stores the event of b in cluster_events and returns the bell
// that announces it by id.
func storeEvent(tx *gorm.DB, b notify.Doorbell) (notify.Doorbell, error) {
	var id int64
	err := tx.Raw("INSERT INTO cluster_events (user_id, type, data, created_at) VALUES (?, ?, ?, ?) RETURNING id",
		b.User, b.Event.Type, string(b.Event.Data), utc(time.Now())).Scan(&id).Error
	if err != nil {
		return notify.Doorbell{}, err
	}
	return notify.Doorbell{Kind: notify.BellEventRow, User: b.User, ID: id}, nil
}

// readAllBell announces a read-all; upToID 0 (every notification) is sent
// without "up".
func readAllBell(userID, upToID, unread int64) notify.Doorbell {
	b := notify.Doorbell{Kind: notify.BellReadAll, User: userID, Unread: unread}
	if upToID > 0 {
		b.UpTo = &upToID
	}
	return b
}
