package natsbroker

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/notifyd/notifyd/notify"
)

// Receiver brings this instance's sockets up to date with changes
// (notify.Receiver, shared with the Postgres broker): it drops a change it
// has by Seq, repairs a gap from the database before anything newer, and
// its Run audits the watched users' sequences.
type Receiver interface {
	Deliver(changes []notify.Change)
	Seen(userID, seq int64)
	Forget(userID int64)
	CatchUpAll(ctx context.Context) error
	Run(ctx context.Context)
	Lag() time.Duration
}

// Broker is the notify.Broker of cluster.broker = "nats": committed
// changes travel whole (frames included, never read back from the
// database), sealed, on the subject of their user.
type Broker struct {
	bus    *Bus
	rcv    Receiver
	cfg    Config
	logger *slog.Logger
	lag    notify.Observer // told the delivery lag (notify.ReportLag)
}

// lagReport is how often the delivery lag is recorded, and logged while
// there is one.
const lagReport = time.Second

var _ notify.Broker = (*Broker)(nil)

// New returns the NATS broker delivering to rcv. It connects at once (see
// NewBus); Close closes the connection. metrics are its own; the delivery
// lag goes to lag (the process's notify.Observer, as for the postgres
// broker). Either may be nil.
func New(cfg Config, rcv Receiver, logger *slog.Logger, metrics *Metrics, lag notify.Observer) (*Broker, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	b := &Broker{rcv: rcv, cfg: cfg, logger: logger, lag: lag}
	bus, err := NewBus(cfg, busReceiver{b}, logger, metrics)
	if err != nil {
		return nil, err
	}
	b.bus = bus
	return b, nil
}

// Publish delivers changes to this instance's sockets at once, then sends
// each user's changes, in order, as one sealed message on the user's
// subject (one per change when together they exceed the size bound); a
// revoked session, whose user is not known, goes to every instance
// (NoUser). A change that cannot be sent is a gap the receivers repair
// from the database.
func (b *Broker) Publish(_ context.Context, changes []notify.Change) error {
	b.rcv.Deliver(changes)
	var errs []error
	for _, run := range byUser(changes) {
		errs = append(errs, b.send(run))
	}
	return errors.Join(errs...)
}

// send publishes the changes of one user.
func (b *Broker) send(changes []notify.Change) error {
	payload, err := json.Marshal(changes)
	if err != nil {
		return err
	}
	err = b.bus.Publish(changes[0].User, payload)
	if !errors.Is(err, ErrTooLarge) || len(changes) == 1 {
		return err
	}
	var errs []error
	for i := range changes {
		errs = append(errs, b.send(changes[i:i+1]))
	}
	return errors.Join(errs...)
}

// byUser splits changes into runs of one user each, keeping their order.
func byUser(changes []notify.Change) [][]notify.Change {
	index := map[int64]int{}
	var runs [][]notify.Change
	for _, c := range changes {
		i, ok := index[c.User]
		if !ok {
			i = len(runs)
			index[c.User] = i
			runs = append(runs, nil)
		}
		runs[i] = append(runs[i], c)
	}
	return runs
}

// Run receives from the other instances, and runs the receiver's repairs
// and audit, until ctx is done or Close is called.
func (b *Broker) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { b.rcv.Run(ctx) })
	wg.Go(func() { notify.ReportLag(ctx, lagReport, b.Lag, b.logger, b.lag) })
	err := b.bus.Run(ctx)
	cancel()
	wg.Wait()
	return err
}

// Lag is now minus the commit time of the oldest change received and not
// yet handed to the sockets: being handed over (Bus.Lag), or held by the
// receiver above a gap.
func (b *Broker) Lag() time.Duration { return max(b.bus.Lag(), b.rcv.Lag()) }

// Ready fails with EUNAVAILABLE when NATS has been unreachable, or
// delivery has lagged, for longer than cluster.max_listener_lag.
func (b *Broker) Ready(ctx context.Context) error {
	if err := b.bus.Ready(ctx); err != nil {
		return err
	}
	if lag := b.Lag(); lag > b.cfg.MaxLag {
		return notify.Errorf(notify.EUNAVAILABLE, "delivery lags by %s", lag.Round(time.Millisecond))
	}
	return nil
}

// Watch subscribes to the user's subject (see Bus.Watch).
func (b *Broker) Watch(ctx context.Context, userID int64) error { return b.bus.Watch(ctx, userID) }

// Unwatch unsubscribes and forgets the user's sequence.
func (b *Broker) Unwatch(userID int64) {
	b.bus.Unwatch(userID)
	b.rcv.Forget(userID)
}

// Seen starts the user's sequence at what a socket's hello read.
func (b *Broker) Seen(userID, seq int64) { b.rcv.Seen(userID, seq) }

// Local is false: other instances' changes come on the users' subjects.
func (b *Broker) Local() bool { return false }

// Close closes the NATS connection; Run returns.
func (b *Broker) Close() { b.bus.Close() }

// busReceiver decodes what the bus receives for the Receiver.
type busReceiver struct{ b *Broker }

// Receive decodes a message's changes. A change of another user than the
// subject's is dropped: the seal binds a message to its subject, so only
// a holder of the secret could have sent it.
func (r busReceiver) Receive(_ context.Context, user int64, payload []byte) {
	changes, err := decodeChanges(payload)
	if err != nil {
		r.b.logger.Warn("natsbroker: undecodable changes", "user_id", user, "error", err)
		return
	}
	kept := changes[:0]
	for _, c := range changes {
		if c.User == user {
			kept = append(kept, c)
		}
	}
	if len(kept) > 0 {
		r.b.rcv.Deliver(kept)
	}
}

// decodeChanges reads what Publish encoded, restoring what JSON does not
// carry: a notification's user (json:"-") and nil for absent data.
func decodeChanges(payload []byte) ([]notify.Change, error) {
	var changes []notify.Change
	if err := json.Unmarshal(payload, &changes); err != nil {
		return nil, err
	}
	for i := range changes {
		if n := changes[i].Notification; n != nil {
			n.UserID = changes[i].User
			if string(n.Data) == "null" {
				n.Data = nil
			}
		}
	}
	return changes, nil
}

// Resync catches every watched user up from the database. When that
// fails (the database is down too), the receiver's audit catches up each
// user it finds behind once the database answers again.
func (r busReceiver) Resync(ctx context.Context) {
	if err := r.b.rcv.CatchUpAll(ctx); err != nil && ctx.Err() == nil {
		r.b.logger.Warn("natsbroker: catch-up after a possible loss failed; the audit will repair", "error", err)
	}
}
