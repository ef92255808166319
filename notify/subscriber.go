package notify

import "sync"

// Subscriber is one open socket in the hub. The websocket server owns the
// connection: it takes each frame with Next (woken by the function given to
// SetWake) and writes it, and closes the socket when Done is closed, for
// the reason CloseReason gives.
type Subscriber struct {
	ID        uint64
	UserID    int64
	SessionID int64 // 0: authenticated by a token, no session

	done  chan struct{}
	obs   Observer // told of queue-full closes
	limit int      // frames that may wait (ws.send_queue)

	mu      sync.Mutex
	frames  frameQueue // what Next returns
	wake    func()     // SetWake; nil until then
	closed  bool
	why     CloseReason
	text    string
	live    bool
	cursor  int64   // highest notification id handed to the queue
	pending []Frame // frames published before GoLive

	// Set while replaying, for a cluster broker's catch-up
	// (catchup.go): floor is a lower bound of the cursor GoLive will get;
	// missed records that a catch-up ran before the floor was known.
	floor    int64
	floorSet bool
	missed   bool
}

// Next removes and returns the oldest frame waiting to be written; ok is
// false when there is none.
func (s *Subscriber) Next() (f Frame, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.frames.pop()
}

// SetWake makes the subscriber call wake each time a frame is queued and
// when it is closed, so that its owner needs no goroutine waiting for
// frames: wake starts one when there is work. wake is called with the
// subscriber's lock held, from the publisher's goroutine: it must not
// block nor call back into the subscriber.
func (s *Subscriber) SetWake(wake func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wake = wake
}

func (s *Subscriber) wakeLocked() {
	if s.wake != nil {
		s.wake()
	}
}

// Done is closed when the socket must be closed.
func (s *Subscriber) Done() <-chan struct{} { return s.done }

// CloseReason returns why the socket must close and the text given to
// Close; CloseNone until Done is closed.
func (s *Subscriber) CloseReason() (CloseReason, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.why, s.text
}

// Close asks the owner to close the socket for why, with text for the
// client (the close frame's reason). The first call wins.
func (s *Subscriber) Close(why CloseReason, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeLocked(why, text)
}

func (s *Subscriber) closeLocked(why CloseReason, text string) {
	if s.closed {
		return
	}
	s.closed = true
	s.why, s.text = why, text
	s.pending = nil
	s.frames.reset()
	close(s.done)
	s.wakeLocked()
}

// deliver queues f, or holds it while replaying. A notification at or
// below the cursor was already sent (by the replay or earlier) and is
// dropped, so a resuming socket sees each id once. A full queue closes the
// socket: the client resumes from its last id and loses nothing.
func (s *Subscriber) deliver(f Frame) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if !s.live {
		if len(s.pending) >= s.limit {
			s.queueFullLocked(ReasonReplayOverflow)
			return
		}
		s.pending = append(s.pending, f)
		return
	}
	s.enqueueLocked(f)
}

func (s *Subscriber) enqueueLocked(f Frame) {
	if f.ID != 0 {
		if f.ID <= s.cursor {
			return
		}
		s.cursor = f.ID
	}
	if s.frames.len() >= s.limit {
		s.queueFullLocked(ReasonQueueFull)
		return
	}
	s.frames.push(f, s.limit)
	s.wakeLocked()
}

// queueFullLocked closes the socket for reading too slowly, counted once
// by reason (ReasonQueueFull or ReasonReplayOverflow).
func (s *Subscriber) queueFullLocked(reason string) {
	if s.closed {
		return
	}
	s.obs.QueueFull(reason)
	s.closeLocked(CloseQueueFull, "send queue full")
}

// GoLive ends replay mode: cursor is the highest notification id the owner
// has already written (the last replayed id, or the user's newest id when
// there was no replay). Frames held since Register are queued, minus the
// notifications at or below cursor.
func (s *Subscriber) GoLive(cursor int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.live {
		return
	}
	s.cursor = cursor
	s.live = true
	pending := s.pending
	s.pending = nil
	for _, f := range pending {
		s.enqueueLocked(f)
		if s.closed {
			return
		}
	}
}
