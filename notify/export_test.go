package notify

// QueuedRows returns how many rows wait for the group committer, so tests
// can line calls up behind a batch before letting it commit.
func (s *Service) QueuedRows() int {
	s.batch.mu.Lock()
	defer s.batch.mu.Unlock()
	return s.batch.rows
}
