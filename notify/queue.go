package notify

// keepFrames is the largest ring an empty frameQueue keeps. A busier socket
// grows its ring up to ws.send_queue and gives it back once drained, so an
// idle socket holds at most this many frames' worth of memory (a Frame is
// 72 bytes; a ring of 256 allocated up front was most of an idle socket).
const keepFrames = 16

// frameQueue is a subscriber's bounded FIFO of frames, a ring that grows on
// demand: it allocates nothing until the first frame and nothing per frame
// once it has grown to the socket's usual burst. Its owner (Subscriber)
// guards it with its mutex and enforces the bound.
type frameQueue struct {
	ring []Frame
	head int // index of the oldest frame
	n    int // frames waiting
}

// len returns the number of frames waiting.
func (q *frameQueue) len() int { return q.n }

// push appends f, growing the ring when it is full. limit (ws.send_queue)
// caps the ring's size; the caller never pushes more than limit frames.
func (q *frameQueue) push(f Frame, limit int) {
	if q.n == len(q.ring) {
		q.grow(limit)
	}
	q.ring[(q.head+q.n)%len(q.ring)] = f
	q.n++
}

func (q *frameQueue) grow(limit int) {
	size := min(max(2*len(q.ring), 4), max(limit, q.n+1))
	ring := make([]Frame, size)
	for i := range q.n {
		ring[i] = q.ring[(q.head+i)%len(q.ring)]
	}
	q.ring, q.head = ring, 0
}

// pop removes and returns the oldest frame; ok is false when none is
// waiting. The slot is cleared so the ring does not keep the frame's data
// alive, and a large ring is dropped once empty (see keepFrames).
func (q *frameQueue) pop() (f Frame, ok bool) {
	if q.n == 0 {
		return Frame{}, false
	}
	f = q.ring[q.head]
	q.ring[q.head] = Frame{}
	q.head = (q.head + 1) % len(q.ring)
	q.n--
	if q.n == 0 {
		q.head = 0
		if len(q.ring) > keepFrames {
			q.ring = nil
		}
	}
	return f, true
}

// reset drops every frame and the ring.
func (q *frameQueue) reset() { *q = frameQueue{} }
