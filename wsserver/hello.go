package wsserver

import (
	"context"
	"slices"
	"time"

	"github.com/notifyd/notifyd/notify"
)

// backlog is what a socket is sent between hello and live frames.
type backlog struct {
	rows   []notify.Notification // to replay, ascending
	resync bool                  // too many to replay: send resync instead
	cursor int64                 // the id the subscriber goes live at
	// unread is the count read with the cursor when nothing is replayed
	// (counted): it then describes the same moment as the cursor.
	unread  int64
	counted bool
}

// greet writes hello and the replay, then lets the hub's frames through.
// The subscriber was registered before anything is read here, so a
// notification committed meanwhile is either in what is read (and dropped
// from the live frames by the cursor) or above the cursor and sent live:
// never lost, never twice.
func (c *conn) greet(ctx context.Context, req authRequest) (closing, bool) {
	b, err := c.backlog(ctx, req)
	if err != nil {
		return c.failure(ctx, "replay", err), false
	}
	// Read after the backlog, so the count includes every replayed row; a
	// row committed after this read is sent live with its own count.
	// Without a replay, the count read with the cursor is that moment's.
	unread := b.unread
	if !b.counted {
		if unread, err = c.srv.deps.Store.UnreadCount(ctx, c.user.ID); err != nil {
			return c.failure(ctx, "unread count", err), false
		}
	}
	m := c.srv.deps.Metrics
	if err := c.write(notify.HelloFrame(c.user, unread)); err != nil {
		return lost(), false
	}
	m.FrameDelivered("hello", time.Time{})
	if b.resync {
		if err := c.write(notify.ResyncFrame()); err != nil {
			return lost(), false
		}
		m.FrameDelivered("resync", time.Time{})
	}
	for _, n := range b.rows {
		// A long replay stops for a logout or a shutdown.
		select {
		case <-c.sub.Done():
			return c.subClosed(), false
		case <-ctx.Done():
			return serverClose(CloseGoingAway, "server shutting down"), false
		default:
		}
		f := notify.NotificationFrame(n, unread)
		if err := c.write(f.Data); err != nil {
			return lost(), false
		}
		// A replayed row was committed long ago: it has no latency.
		m.FrameDelivered(f.Type, time.Time{})
	}
	c.sub.GoLive(b.cursor)
	return closing{}, true
}

// backlog reads the notifications above after_id, at most ws.max_replay of
// them, and the cursor to go live at. Without after_id nothing is replayed
// and the cursor is the user's newest id, read after Register.
func (c *conn) backlog(ctx context.Context, req authRequest) (backlog, error) {
	st, uid := c.srv.deps.Store, c.user.ID
	if !req.resume {
		pos, ok := c.earlyCurrent()
		if !ok {
			var err error
			if pos, err = c.position(ctx); err != nil {
				return backlog{}, err
			}
		}
		return backlog{cursor: pos.Newest, unread: pos.Unread, counted: true}, nil
	}
	// Read before the rows: see the cursor below.
	pos, err := c.position(ctx)
	if err != nil {
		return backlog{}, err
	}
	newest := pos.Newest
	rows, tooMany, err := c.replayRows(ctx, req.afterID)
	if err != nil {
		return backlog{}, err
	}
	if tooMany {
		// The client reloads over HTTP after resync; only what is newer
		// than that reload's data must come live.
		newest, err := st.MaxNotificationID(ctx, uid)
		return backlog{resync: true, cursor: newest}, err
	}
	if len(rows) > 0 {
		return backlog{rows: rows, cursor: rows[len(rows)-1].ID}, nil
	}
	// Nothing above after_id. An after_id beyond the user's newest id
	// (a client from before a database reset) must not hold back the
	// live notifications below it: every one committed after newest was
	// read is above newest, so going live at newest loses nothing and
	// repeats nothing the client has.
	return backlog{cursor: min(req.afterID, newest)}, nil
}

// earlyPosition is the user's position read with the session, in one
// statement, before the socket registered (auth.go): one round trip per
// connect instead of two (issue 11). mark is the hub's change clock taken
// before that read (notify.Hub.Mark).
type earlyPosition struct {
	pos  notify.Position
	mark uint64
	read bool
}

// earlyCurrent returns the early position when it is current: nothing was
// published for the user since its mark, so every change it does not
// hold reaches the socket, registered since, live (notify.Hub.ChangedSince).
// It records the floor and the seq as position does. Else the hello reads
// the position again, after Register, as a resuming socket does. Only a
// broker that delivers every change through this hub (notify.Broker.Local)
// lets auth read early.
func (c *conn) earlyCurrent() (notify.Position, bool) {
	e := c.early
	if !e.read || c.srv.deps.Hub.ChangedSince(c.user.ID, e.mark) || !c.sub.SetFloor(e.pos.Newest) {
		return notify.Position{}, false
	}
	c.srv.deps.Watcher.Seen(c.user.ID, e.pos.Seq)
	return e.pos, true
}

// position reads the user's position and records its newest id as the
// subscriber's floor, from which a cluster catch-up sends what the
// broker missed (notify.Subscriber.SetFloor); it reads again when a
// catch-up ran before the floor was recorded. The user's seq, read in the
// same statement, starts the receiver's sequence of the user (Seen): every
// change up to it is in what this socket reads.
func (c *conn) position(ctx context.Context) (notify.Position, error) {
	for {
		pos, err := c.srv.deps.Store.Position(ctx, c.user.ID)
		if err != nil {
			return notify.Position{}, err
		}
		if c.sub.SetFloor(pos.Newest) {
			c.srv.deps.Watcher.Seen(c.user.ID, pos.Seq)
			return pos, nil
		}
	}
}

// replayRows returns the notifications above after in ascending order, or
// tooMany when there are more than ws.max_replay. It pages, because the
// store caps a page (at 200) below the default max_replay (1000); asking
// for one row more than may be replayed tells "too many" apart.
func (c *conn) replayRows(ctx context.Context, after int64) (rows []notify.Notification, tooMany bool, err error) {
	maxRows := c.cfg.MaxReplay
	q := notify.ListQuery{After: after, Limit: maxRows + 1}
	for {
		page, more, err := c.srv.deps.Store.ListNotifications(ctx, c.user.ID, q)
		if err != nil {
			return nil, false, err
		}
		rows = append(rows, page...)
		if len(rows) > maxRows {
			return nil, true, nil
		}
		if !more || len(page) == 0 {
			break
		}
		last := page[len(page)-1].ID
		if after > 0 {
			q.After = last
		} else {
			q.Before = last
		}
		q.Limit = maxRows + 1 - len(rows)
	}
	if after == 0 {
		// ListQuery reads After 0 as "not a forward query": the pages
		// came newest first, going back with Before. Ids are positive, so
		// "after 0" is the whole history, here in reverse.
		slices.Reverse(rows)
	}
	return rows, false, nil
}
