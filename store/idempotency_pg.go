package store

import (
	"bytes"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/notifyd/notifyd/notify"
)

// The idempotency claims of a Postgres batch (idempotency.go), queued in
// its pipeline before anything else: a transaction that waits for another
// one's key then holds no user lock yet, so keys-then-users is one order
// for everyone and two batches cannot deadlock.

// claimKeysSQL claims the keys given as arrays ($1 scopes, $2 keys, $3
// request hashes, sorted by scope and key; $4 the creation time). A key
// already taken is left alone; one that another transaction is claiming
// makes this statement wait for it to end.
const claimKeysSQL = `INSERT INTO idempotency_keys (scope, key, request_hash, created_at)
SELECT s, k, h, $4 FROM unnest($1::bytea[], $2::text[], $3::bytea[]) WITH ORDINALITY AS c (s, k, h, ord)
ORDER BY ord
ON CONFLICT (scope, key) DO NOTHING`

// readKeysSQL reads the keys just claimed: status 0 is this transaction's
// own claim, anything else a key taken before, with its answer.
const readKeysSQL = `SELECT k.scope, k.key, k.request_hash, k.status, k.response
FROM idempotency_keys k JOIN unnest($1::bytea[], $2::text[]) AS c (s, k2) ON k.scope = c.s AND k.key = c.k2`

// storeAnswersSQL writes the answers of the won claims.
const storeAnswersSQL = `UPDATE idempotency_keys k SET status = a.status, response = a.response
FROM unnest($1::bytea[], $2::text[], $3::int[], $4::text[]) AS a (s, k2, status, response)
WHERE k.scope = a.s AND k.key = a.k2`

// queueClaims queues the claim and the read of claims.
func queueClaims(b *pgx.Batch, claims []notify.Claim, created time.Time) {
	order := claimOrder(claims)
	scopes, keys, hashes := make([][]byte, len(order)), make([]string, len(order)), make([][]byte, len(order))
	for k, i := range order {
		scopes[k], keys[k], hashes[k] = claims[i].Scope, claims[i].Key, claims[i].RequestHash
	}
	b.Queue(claimKeysSQL, scopes, keys, hashes, created)
	b.Queue(readKeysSQL, scopes, keys)
}

// readClaims reads the results of queueClaims into one outcome per claim.
func readClaims(br pgx.BatchResults, claims []notify.Claim) ([]notify.ClaimOutcome, error) {
	if _, err := br.Exec(); err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	outcomes := make([]notify.ClaimOutcome, len(claims))
	found := 0
	for rows.Next() {
		var r idempotencyRow
		if err := rows.Scan(&r.Scope, &r.Key, &r.RequestHash, &r.Status, &r.Response); err != nil {
			return nil, err
		}
		for i, c := range claims {
			if c.Key == r.Key && bytes.Equal(c.Scope, r.Scope) {
				outcomes[i] = r.outcome()
				outcomes[i].Won = r.Status == 0
				found++
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if found != len(claims) {
		// Cannot happen: every key was inserted or found taken.
		return nil, errMissingClaims
	}
	return outcomes, nil
}

// queueAnswers queues the writing of the answers of the won claims.
func queueAnswers(b *pgx.Batch, claims []notify.Claim, outcomes []notify.ClaimOutcome) {
	var (
		scopes  [][]byte
		keys    []string
		status  []int32
		answers []string
	)
	for i, c := range claims {
		if outcomes[i].Won {
			scopes, keys = append(scopes, c.Scope), append(keys, c.Key)
			status, answers = append(status, int32(outcomes[i].Status)), append(answers, string(outcomes[i].Body))
		}
	}
	if len(keys) > 0 {
		b.Queue(storeAnswersSQL, scopes, keys, status, answers)
	}
}
