package httpserver

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/notify"
)

// defaultTaskDuration is the demo task's length when duration_ms is absent.
const defaultTaskDuration = 5 * time.Second

// taskStarter is what the task route needs from notify.Tasks.
type taskStarter interface {
	Start(userID int64, name string, d time.Duration, fail bool) (notify.Task, error)
}

// taskAPI serves the long-task demo. Each task stores a notification, so
// the demo is off unless demo.tasks is set, and a user may start only
// demo.tasks_per_minute tasks a minute (besides notify.MaxTasksPerUser
// running at once).
type taskAPI struct {
	*responder
	tasks   taskStarter
	enabled bool          // demo.tasks
	perUser *keyedLimiter // by user id
}

func newTaskAPI(r *responder, tasks taskStarter, cfg config.Demo, now func() time.Time) *taskAPI {
	return &taskAPI{responder: r, tasks: tasks, enabled: cfg.Tasks, perUser: newKeyedLimiter(cfg.TasksPerMinute, now)}
}

func errTasksOff() error {
	return notify.Errorf(notify.ENOTFOUND, "the task demo is off on this server (demo.tasks = false)")
}

type taskRequest struct {
	Name string `json:"name"`
	// DurationMS is kept raw to tell an absent value (the default) from an
	// explicit null (an error).
	DurationMS json.RawMessage `json:"duration_ms"`
	Fail       bool            `json:"fail"`
}

type taskResponse struct {
	Task notify.Task `json:"task"`
}

// start handles POST /api/tasks {name, duration_ms, fail} → 202 {"task"}.
func (h *taskAPI) start(c *gin.Context) {
	if !h.enabled {
		h.renderError(c, errTasksOff())
		return
	}
	u, _ := userOf(c)
	if wait := h.perUser.take(strconv.FormatInt(u.ID, 10)); wait > 0 {
		h.rateLimited(c, wait)
		return
	}
	var req taskRequest
	if err := h.decodeJSON(c, &req, bodyRequired); err != nil {
		h.renderError(c, err)
		return
	}
	d, err := taskDuration(req.DurationMS)
	if err != nil {
		h.renderError(c, err)
		return
	}
	t, err := h.tasks.Start(u.ID, req.Name, d, req.Fail)
	if err != nil {
		h.renderError(c, err)
		return
	}
	writeJSON(c, http.StatusAccepted, taskResponse{Task: t})
}

// taskDuration reads duration_ms: absent → 5000, else an integer in
// 0..60000.
func taskDuration(raw json.RawMessage) (time.Duration, error) {
	if len(raw) == 0 {
		return defaultTaskDuration, nil
	}
	maxMS := notify.MaxTaskDuration.Milliseconds()
	var ms int64
	if bytes.Equal(raw, []byte("null")) || json.Unmarshal(raw, &ms) != nil || ms < 0 || ms > maxMS {
		return 0, notify.Errorf(notify.EINVALID, "duration_ms: must be an integer between 0 and %d", maxMS)
	}
	return time.Duration(ms) * time.Millisecond, nil
}
