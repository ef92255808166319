package notify

// QueuedRows returns how many rows wait for the group committer, so tests
// can line calls up behind a batch before letting it commit.
func (s *Service) QueuedRows() int {
	s.batch.mu.Lock()
	defer s.batch.mu.Unlock()
	return s.batch.rows
}

// Unsettled returns how many users wait for a catch-up after an insert of
// unknown outcome, and whether the background loop runs (settle.go).
func (s *Service) Unsettled() (users int, running bool) {
	s.settle.mu.Lock()
	defer s.settle.mu.Unlock()
	return len(s.settle.users), s.settle.running
}
