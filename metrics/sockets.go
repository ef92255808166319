package metrics

import "time"

// SocketOpened counts an upgraded websocket connection.
func (m *Metrics) SocketOpened() {
	if m == nil {
		return
	}
	m.openSockets.Inc()
	m.socketsOpened.Inc()
}

// SocketClosed counts the end of a connection counted by SocketOpened.
// code is the close code as a label, bounded by the websocket server,
// which owns the codes ("1000", "4401"..., "other" for a code a client
// chose, "none" when there was no close frame); by is "server", "client"
// or "lost".
func (m *Metrics) SocketClosed(code, by string) {
	if m == nil {
		return
	}
	switch by {
	case "server", "client", "lost":
	default:
		by = "other"
	}
	// Counted before the gauge drops, so a scrape that sees the socket
	// gone also sees how it closed.
	m.closes.WithLabelValues(code, by).Inc()
	m.openSockets.Dec()
}

// QueueFull counts a socket closed because it read too slowly; reason is
// notify.ReasonQueueFull or notify.ReasonReplayOverflow.
func (m *Metrics) QueueFull(reason string) {
	if m == nil {
		return
	}
	m.queueFull.WithLabelValues(reason).Inc()
}

// FrameDelivered counts a message of type typ written to a socket. When
// at is set (the commit time stamped by notify.Service), it also records
// the publish→socket latency.
func (m *Metrics) FrameDelivered(typ string, at time.Time) {
	if m == nil {
		return
	}
	if typ == "" {
		typ = "other"
	}
	if !at.IsZero() {
		m.latency.Observe(time.Since(at).Seconds())
	}
	m.delivered.WithLabelValues(typ).Inc()
}
