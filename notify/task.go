package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Task demo limits.
const (
	MaxTasksPerUser = 4
	MaxTaskDuration = 60 * time.Second
	taskSteps       = 10
	taskFailStep    = 6 // a failing task stops at 60 %
)

// Task is a running demo job.
type Task struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Tasks runs the demo long jobs: each sends task_progress events while it
// runs and ends with a stored notification, even if the user has no socket
// open. Close cancels the running ones without a notification.
type Tasks struct {
	svc    *Service
	logger *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	running map[int64]int
}

// NewTasks returns a task runner that reports through svc.
func NewTasks(svc *Service, logger *slog.Logger) *Tasks {
	ctx, cancel := context.WithCancel(context.Background())
	return &Tasks{svc: svc, logger: logger, ctx: ctx, cancel: cancel, running: make(map[int64]int)}
}

// Start runs a task for userID in the background. At most MaxTasksPerUser
// run at once per user (ERATELIMIT beyond).
func (t *Tasks) Start(userID int64, name string, d time.Duration, fail bool) (Task, error) {
	if err := ValidateText("name", name, 1, 100); err != nil {
		return Task{}, err
	}
	if d < 0 || d > MaxTaskDuration {
		return Task{}, Errorf(EINVALID, "duration_ms: must be between 0 and %d", MaxTaskDuration.Milliseconds())
	}
	t.mu.Lock()
	if t.ctx.Err() != nil {
		t.mu.Unlock()
		return Task{}, Errorf(EUNAVAILABLE, "server is shutting down")
	}
	if t.running[userID] >= MaxTasksPerUser {
		t.mu.Unlock()
		return Task{}, Errorf(ERATELIMIT, "at most %d tasks may run at once", MaxTasksPerUser)
	}
	t.running[userID]++
	t.wg.Add(1)
	t.mu.Unlock()

	task := Task{ID: newTaskID(), Name: name}
	go func() {
		defer t.wg.Done()
		defer t.done(userID)
		t.run(userID, task, d, fail)
	}()
	return task, nil
}

func (t *Tasks) done(userID int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.running[userID]--
	if t.running[userID] <= 0 {
		delete(t.running, userID)
	}
}

func (t *Tasks) run(userID int64, task Task, d time.Duration, fail bool) {
	step := d / taskSteps
	// A failing task stops partway, as a real job would: its bar must not
	// reach 100 % before "Task failed".
	last := taskSteps
	if fail {
		last = taskFailStep
	}
	for i := 1; i <= last; i++ {
		select {
		case <-t.ctx.Done():
			t.logger.Info("task cancelled by shutdown", "user_id", userID, "task_id", task.ID)
			return
		case <-time.After(step):
		}
		progress := map[string]any{"task_id": task.ID, "name": task.Name, "progress": float64(i) / taskSteps}
		if fail && i == last {
			progress["failed"] = true
		}
		data, _ := json.Marshal(progress)
		_, _ = t.svc.SendEvent(t.ctx, userID, Event{Type: "task_progress", Data: data})
	}
	n := NewNotification{Title: "Task finished", Content: fmt.Sprintf("%q finished after %s.", task.Name, d), Style: StyleInfo}
	if fail {
		n = NewNotification{Title: "Task failed", Content: fmt.Sprintf("%q failed after %s, at %d %%.", task.Name, step*taskFailStep, 100*taskFailStep/taskSteps), Style: StyleError}
	}
	if _, err := t.svc.Notify(t.ctx, userID, n); err != nil {
		t.logger.Error("task notification", "user_id", userID, "task_id", task.ID, "error", err)
	}
}

// Close cancels every running task and waits for them to stop.
func (t *Tasks) Close() {
	t.mu.Lock()
	t.cancel()
	t.mu.Unlock()
	t.wg.Wait()
}

func newTaskID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}
