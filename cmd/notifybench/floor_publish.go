package main

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// floorBodyLimit bounds a publish body read by the floor.
const floorBodyLimit = 64 << 10

// publish is POST /api/publisher/users/{ext}/notifications, ext being the
// raw user id: check the key, decode, insert and commit, push, answer 201
// with the notification (the shape the Go client decodes).
func (f *floorServer) publish(w http.ResponseWriter, r *http.Request) {
	auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(auth), []byte(f.key)) != 1 {
		floorError(w, http.StatusUnauthorized, "unauthorized")
		return
	}
	user, _ := strconv.ParseInt(r.PathValue("ext"), 10, 64)
	lock := f.locks[user]
	if lock == nil {
		floorError(w, http.StatusNotFound, "not_found")
		return
	}
	var in struct {
		Title   string `json:"title"`
		Content string `json:"content"`
		Style   string `json:"style"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, floorBodyLimit)).Decode(&in); err != nil || in.Title == "" {
		floorError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	if in.Style == "" {
		in.Style = "info"
	}
	lock.Lock()
	defer lock.Unlock()
	n := rawNotificationBody{Title: in.Title, Content: in.Content, Style: in.Style}
	if err := f.pool.QueryRow(r.Context(), f.insert, user, in.Title, in.Content, in.Style).Scan(&n.ID, &n.CreatedAt); err != nil {
		floorError(w, http.StatusServiceUnavailable, "unavailable")
		return
	}
	body, err := json.Marshal(n)
	if err != nil {
		floorError(w, http.StatusInternalServerError, "internal")
		return
	}
	f.raw.push(user, notificationFrame(body))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(append(append([]byte(`{"notification":`), body...), '}'))
}

// floorError answers with notifyd's error shape, so the client reports the
// code.
func floorError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"error":{"code":%q,"message":%q}}`, code, code)
}
