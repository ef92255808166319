package notify

import "sync"

// Subscriber is one open socket in the hub. The websocket server owns the
// connection: it reads Queue and writes each frame, and closes the socket
// when Done is closed, with the code from CloseCode.
type Subscriber struct {
	ID        uint64
	UserID    int64
	SessionID int64

	queue chan Frame
	done  chan struct{}

	mu      sync.Mutex
	closed  bool
	code    int
	reason  string
	live    bool
	cursor  int64   // highest notification id handed to the queue
	pending []Frame // frames published before GoLive
}

// Queue is the channel of frames to write, in order.
func (s *Subscriber) Queue() <-chan Frame { return s.queue }

// Done is closed when the socket must be closed.
func (s *Subscriber) Done() <-chan struct{} { return s.done }

// CloseCode returns the close code and reason given to Close; meaningful
// once Done is closed.
func (s *Subscriber) CloseCode() (int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.code, s.reason
}

// Close asks the owner to close the socket with code. The first call wins.
func (s *Subscriber) Close(code int, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeLocked(code, reason)
}

func (s *Subscriber) closeLocked(code int, reason string) {
	if s.closed {
		return
	}
	s.closed = true
	s.code, s.reason = code, reason
	s.pending = nil
	close(s.done)
}

// Cursor returns the highest notification id queued for this socket.
func (s *Subscriber) Cursor() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursor
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
		if len(s.pending) >= cap(s.queue) {
			s.closeLocked(CloseQueueFull, "send queue full")
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
	select {
	case s.queue <- f:
	default:
		s.closeLocked(CloseQueueFull, "send queue full")
	}
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
