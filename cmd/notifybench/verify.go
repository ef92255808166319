package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// socketCheck is what the check of -fault runs found over every socket:
// each socket against the notifications its user has in the database.
type socketCheck struct {
	Sockets    int   `json:"sockets"`      // sockets checked (those that connected)
	Owed       int64 `json:"owed"`         // frames owed: the user's rows, per socket
	Received   int64 `json:"received"`     // notification frames received, repeats included
	Missing    int64 `json:"missing"`      // rows a socket never received
	Duplicated int64 `json:"duplicated"`   // frames of an id the socket already had
	OutOfOrder int64 `json:"out_of_order"` // frames below an id the socket already had
	Foreign    int64 `json:"foreign"`      // frames of ids that are not its user's rows
}

// ok reports whether every socket got every row of its user exactly once
// and in order, and nothing else.
func (c socketCheck) ok() bool {
	return c.Missing == 0 && c.Duplicated == 0 && c.OutOfOrder == 0 && c.Foreign == 0
}

// add checks one socket: got is the ids it received in the order
// received, owed its user's ids.
func (c *socketCheck) add(got []int64, owed []int64) {
	c.Sockets++
	c.Owed += int64(len(owed))
	c.Received += int64(len(got))
	isOwed := make(map[int64]bool, len(owed))
	for _, id := range owed {
		isOwed[id] = true
	}
	seen := make(map[int64]bool, len(got))
	var highest int64
	for _, id := range got {
		switch {
		case seen[id]:
			c.Duplicated++
			continue
		case !isOwed[id]:
			c.Foreign++
		case id < highest:
			c.OutOfOrder++
		}
		seen[id] = true
		highest = max(highest, id)
	}
	for _, id := range owed {
		if !seen[id] {
			c.Missing++
		}
	}
}

// committedRows returns every notification id in the database at dbURL by
// user, ascending: the truth a -fault run's sockets are checked against
// (a publish whose answer was lost may have committed, and its frame is
// owed all the same).
func committedRows(ctx context.Context, dbURL string) (map[int64][]int64, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, fmt.Errorf("check: connect to the run's database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, "SELECT user_id, id FROM notifications ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("check: read the notifications: %w", err)
	}
	byUser := map[int64][]int64{}
	var user, id int64
	_, err = pgx.ForEachRow(rows, []any{&user, &id}, func() error {
		byUser[user] = append(byUser[user], id)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("check: read the notifications: %w", err)
	}
	return byUser, nil
}
