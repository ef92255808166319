package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/notifyd/notifyd/client"
)

// setupConcurrency bounds the user and session requests in flight.
const setupConcurrency = 32

// setupAttempts is how often a setup request is tried before the run gives
// up: a busy server may answer 503 or 429 now and then.
const setupAttempts = 3

// setupSession opens a session of the app's user name (the route creates
// the user when it is new), with a few attempts on connection errors, 429
// and 5xx: a busy server may answer 503 or 429 now and then, and a second
// session after a lost answer does no harm.
func setupSession(ctx context.Context, c *client.Client, name string) (client.Session, error) {
	var err error
	for attempt := 1; attempt <= setupAttempts; attempt++ {
		var s client.Session
		s, err = c.NewSession(ctx, name)
		var ce *client.Error
		if err == nil || ctx.Err() != nil || errors.As(err, &ce) && ce.Status < 500 && ce.Status != http.StatusTooManyRequests {
			return s, err
		}
		select {
		case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
		case <-ctx.Done():
			return s, ctx.Err()
		}
	}
	return client.Session{}, err
}

// benchUser is a notifyd user created for the run, with one session.
type benchUser struct {
	ID     int64
	Ext    string // the external id the publisher API names it by
	Secret string
}

// setupUsers creates (or finds) the users prefix-0 … prefix-(n-1) and one
// session each. done counts finished users for the progress line.
func setupUsers(ctx context.Context, c *client.Client, prefix string, n int, done *atomic.Int64) ([]benchUser, error) {
	users := make([]benchUser, n)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(setupConcurrency)
	for i := range n {
		g.Go(func() error {
			name := prefix + "-" + strconv.Itoa(i)
			s, err := setupSession(ctx, c, name)
			if err != nil {
				return fmt.Errorf("create user %s and its session: %w", name, err)
			}
			if s.User.ID <= 0 || s.Secret == "" {
				return fmt.Errorf("user %s: answer without id or secret", name)
			}
			users[i] = benchUser{ID: s.User.ID, Ext: name, Secret: s.Secret}
			done.Add(1)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	return users, nil
}

// socketSpecs spreads sockets round-robin over users: socket i belongs to
// user i mod len(users). With several instances (wsURLs), the k-th socket
// of user u goes to instance (u + k) mod len(wsURLs): each user's sockets
// spread over the instances, and with one socket per user the users do.
func socketSpecs(users []benchUser, sockets int, wsURLs []string) []socketSpec {
	specs := make([]socketSpec, sockets)
	for i := range specs {
		u := users[i%len(users)]
		specs[i] = socketSpec{Index: i, User: u.ID, Secret: u.Secret}
		if len(wsURLs) > 1 {
			specs[i].WS = wsURLs[(i%len(users)+i/len(users))%len(wsURLs)]
		}
	}
	return specs
}

// socketsPerUser counts the sockets of each user that connected: each
// notification to that user should reach that many frames.
func socketsPerUser(specs []socketSpec, failed []int) map[int64]int {
	bad := make(map[int]bool, len(failed))
	for _, i := range failed {
		bad[i] = true
	}
	per := map[int64]int{}
	for _, s := range specs {
		if !bad[s.Index] {
			per[s.User]++
		}
	}
	return per
}
