package store

import (
	"bytes"
	"cmp"
	"context"
	"database/sql/driver"
	"errors"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/notifyd/notifyd/notify"
)

// Idempotency keys of the publisher API (notify/idempotency.go). A key is
// claimed by inserting its row, with status 0, in the transaction that
// stores the request's notifications; the answer is written in the same
// transaction once the rows exist. A concurrent transaction inserting the
// same key waits on the primary key until the first ends, then finds it
// taken (or claims it, if the first rolled back): the database decides,
// across instances. Rows with status 0 are never visible to others.

// blob passes a []byte to gorm as one value: gorm expands a bare slice
// argument into a list of placeholders.
type blob []byte

// Value implements driver.Valuer.
func (b blob) Value() (driver.Value, error) { return []byte(b), nil }

// idempotencyRow is a row of the idempotency_keys table.
type idempotencyRow struct {
	Scope       []byte
	Key         string
	RequestHash []byte
	Status      int
	Response    string
	CreatedAt   time.Time
}

func (idempotencyRow) TableName() string { return "idempotency_keys" }

func (r idempotencyRow) outcome() notify.ClaimOutcome {
	return notify.ClaimOutcome{RequestHash: r.RequestHash, Status: r.Status, Body: []byte(r.Response)}
}

// DeleteIdempotencyKeys deletes at most limit keys created before before
// and returns how many it deleted (the retention sweeper).
func (s *Store) DeleteIdempotencyKeys(ctx context.Context, before time.Time, limit int) (int64, error) {
	db, ctx, cancel := s.query(ctx)
	defer cancel()
	res := db.Exec(`DELETE FROM idempotency_keys WHERE (scope, key) IN (
		SELECT scope, key FROM idempotency_keys WHERE created_at < ? LIMIT ?)`, utc(before), limit)
	if res.Error != nil {
		return 0, s.translate(ctx, "delete idempotency keys", res.Error)
	}
	return res.RowsAffected, nil
}

// claimOrder returns the indexes of claims sorted by (scope, key): the
// order in which a transaction inserts its keys, so that two transactions
// claiming the same keys cannot deadlock.
func claimOrder(claims []notify.Claim) []int {
	order := make([]int, len(claims))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		return cmp.Or(bytes.Compare(claims[a].Scope, claims[b].Scope), strings.Compare(claims[a].Key, claims[b].Key))
	})
	return order
}

// claimedItems returns the indexes of the items to store: every item,
// minus those of lost claims.
func claimedItems(n int, claims []notify.Claim, outcomes []notify.ClaimOutcome) []int {
	skip := make([]bool, n)
	for i, c := range claims {
		if !outcomes[i].Won {
			for k := c.First; k < c.First+c.Count; k++ {
				skip[k] = true
			}
		}
	}
	idx := make([]int, 0, n)
	for i := range n {
		if !skip[i] {
			idx = append(idx, i)
		}
	}
	return idx
}

// answers renders the answer of each won claim from its rows.
func answers(claims []notify.Claim, outcomes []notify.ClaimOutcome, out []notify.Inserted) {
	for i, c := range claims {
		if outcomes[i].Won {
			outcomes[i].Status, outcomes[i].Body = c.Answer(out[c.First : c.First+c.Count])
			outcomes[i].RequestHash = c.RequestHash
		}
	}
}

// claimSQLite claims each key inside tx (the immediate transaction holds
// the write lock: nobody else is claiming) and returns the outcomes.
func claimSQLite(tx *gorm.DB, claims []notify.Claim, created time.Time) ([]notify.ClaimOutcome, error) {
	outcomes := make([]notify.ClaimOutcome, len(claims))
	for _, i := range claimOrder(claims) {
		c := claims[i]
		res := tx.Exec(`INSERT INTO idempotency_keys (scope, key, request_hash, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (scope, key) DO NOTHING`, blob(c.Scope), c.Key, blob(c.RequestHash), created)
		if res.Error != nil {
			return nil, res.Error
		}
		if res.RowsAffected == 1 {
			outcomes[i].Won = true
			continue
		}
		var r idempotencyRow
		if err := tx.Where("scope = ? AND key = ?", blob(c.Scope), c.Key).Take(&r).Error; err != nil {
			return nil, err
		}
		outcomes[i] = r.outcome()
	}
	return outcomes, nil
}

// storeAnswers writes the answer of every won claim.
func storeAnswers(tx *gorm.DB, claims []notify.Claim, outcomes []notify.ClaimOutcome) error {
	for i, c := range claims {
		if !outcomes[i].Won {
			continue
		}
		err := tx.Exec("UPDATE idempotency_keys SET status = ?, response = ? WHERE scope = ? AND key = ?",
			outcomes[i].Status, string(outcomes[i].Body), blob(c.Scope), c.Key).Error
		if err != nil {
			return err
		}
	}
	return nil
}

// errMissingClaims reports a claimed key that could not be read back in
// its own transaction.
var errMissingClaims = errors.New("idempotency: a claimed key was not found")
