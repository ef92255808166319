package notify

import "sync/atomic"

// changeMarks let a socket prove that nothing was published for its user
// while it read its position before registering (issue 11: the session
// and the position in one statement, one round trip per connect). Every
// Publish and CloseUser takes a new tick of one clock and raises the slot
// of its user (a hash of the user id) to it, before it looks for the
// user's sockets. A socket takes a Mark before its read and asks
// ChangedSince after Register:
//
//   - a publish whose tick is at or below the mark took it before the
//     mark was read, after its commit: the commit came before the read
//     began, so the read sees it;
//   - a publish whose tick is above the mark either finds the socket
//     registered (it reaches the socket, held until GoLive and dropped by
//     the cursor if the read had it), or looked for the sockets before
//     Register took the hub's lock: then its raise of the slot happened
//     before Register (through that lock), and ChangedSince, after
//     Register, sees it.
//
// So when ChangedSince is false, every change the read missed reaches the
// socket live. A true answer may be another user's (a shared slot) or an
// event's: it only costs the read again, after Register, as before.
type changeMarks struct {
	clock atomic.Uint64
	slots [changeSlots]atomic.Uint64 // the highest tick of each slot's users
}

// changeSlots is the number of slots (32 KiB of counters): a connect
// falls back to a second read when its slot moved, and with a few
// thousand users publishing at once a slot of 4096 moves rarely.
const (
	changeSlotBits = 12
	changeSlots    = 1 << changeSlotBits
)

func (m *changeMarks) slot(userID int64) *atomic.Uint64 {
	return &m.slots[uint64(userID)&(changeSlots-1)]
}

// sessionSlot is the slot of a session's revocations. Sessions share the
// users' slots (a collision only costs a read again), spread by a
// multiplicative hash so that session n and user n do not always meet.
func (m *changeMarks) sessionSlot(sessionID int64) *atomic.Uint64 {
	return &m.slots[(uint64(sessionID)*0x9E3779B97F4A7C15)>>(64-changeSlotBits)]
}

// touch records a change of userID: a new tick, and the slot raised to
// it. The slot only grows: a publisher that finds a higher tick there
// leaves it, and any later read of the slot sees at least that.
func (m *changeMarks) touch(userID int64) { m.raise(m.slot(userID)) }

// touchSession records a revocation of sessionID, as touch does a change.
func (m *changeMarks) touchSession(sessionID int64) { m.raise(m.sessionSlot(sessionID)) }

func (m *changeMarks) raise(s *atomic.Uint64) {
	t := m.clock.Add(1)
	for {
		old := s.Load()
		if old >= t || s.CompareAndSwap(old, t) {
			return
		}
	}
}

// Mark returns the hub's change clock, to be given to ChangedSince. Take
// it before reading a user's position from the database.
func (h *Hub) Mark() uint64 { return h.marks.clock.Load() }

// ChangedSince reports whether something may have been published for
// userID since mark was taken (Mark): a publish, a catch-up or a close of
// the user's sockets. False means none was: a position read after mark
// and before the socket registered is current, every later change reaching
// the socket (see changeMarks). Call it after Register.
func (h *Hub) ChangedSince(userID int64, mark uint64) bool {
	return h.marks.slot(userID).Load() > mark
}

// SessionChangedSince reports whether sessionID may have been revoked
// (CloseSession) since mark was taken (Mark), with the same proof as
// ChangedSince: a socket that read its session after mark and registered
// since is either closed by the revocation or sees true here, after
// Register, and reads its session again. Without it, a logout between
// the session read and Register would find no socket to close and leave
// this one open on a revoked session until it expires.
func (h *Hub) SessionChangedSince(sessionID int64, mark uint64) bool {
	return h.marks.sessionSlot(sessionID).Load() > mark
}
