package notify

import (
	"bytes"
	"context"
	"sync"
)

// Idempotency keys of the publisher API. A publisher that did not get an
// answer (its connection was cut after the commit, or it got a 503 whose
// transaction committed all the same) retries with the same key; the key is
// stored with a hash of the request and the answer, in the transaction
// that creates the notifications, so the database decides — across
// restarts and across instances — and a retry gets the first answer and
// creates and pushes nothing.

// EIDEMPOTENCY is the code of a key reused with another request (422).
const EIDEMPOTENCY = "idempotency_key_reused"

// MaxIdempotencyKeyLen bounds the Idempotency-Key header.
const MaxIdempotencyKeyLen = 255

// ValidateIdempotencyKey checks an Idempotency-Key: 1 to 255 printable
// ASCII characters.
func ValidateIdempotencyKey(key string) error {
	if key == "" || len(key) > MaxIdempotencyKeyLen {
		return Errorf(EINVALID, "Idempotency-Key: must be 1 to %d printable ASCII characters", MaxIdempotencyKeyLen)
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return Errorf(EINVALID, "Idempotency-Key: must be 1 to %d printable ASCII characters", MaxIdempotencyKeyLen)
		}
	}
	return nil
}

// Idempotency asks Service to carry out a create at most once per key.
type Idempotency struct {
	Scope       []byte // whose key: the SHA-256 of the publisher's API key
	Key         string // the Idempotency-Key header
	RequestHash []byte // what was asked: a hash of the method, path and body
	// Answer renders the answer stored with the key from the rows the
	// request created. It runs inside the transaction, so it must be
	// quick and must not fail.
	Answer func(rows []Inserted) (status int, body []byte)
}

// Replayed is the stored answer of the request that first used a key.
type Replayed struct {
	Status int
	Body   []byte
}

// Claim is an idempotency key in a batch: the items of one request
// (items[First : First+Count]) are stored only if the transaction claims
// the key first.
type Claim struct {
	Idempotency
	First, Count int
}

// ClaimOutcome tells whether a transaction claimed a key (Won, its items
// stored) or found it taken, with the answer stored with it.
type ClaimOutcome struct {
	Won         bool
	RequestHash []byte // of the request that holds the key
	Status      int
	Body        []byte
}

// replay answers a request whose key was already taken: the stored
// answer, or EIDEMPOTENCY when that key was used for another request.
func (o ClaimOutcome) replay(idem *Idempotency) (*Replayed, error) {
	if !bytes.Equal(o.RequestHash, idem.RequestHash) {
		return nil, Errorf(EIDEMPOTENCY, "Idempotency-Key: already used for another request; use a new key")
	}
	return &Replayed{Status: o.Status, Body: o.Body}, nil
}

// flights are the idempotency keys of this instance being carried out,
// so that a second request with a key waits for the first to end instead
// of racing it into the same batch.
type flights struct {
	mu      sync.Mutex
	running map[string]chan struct{}
}

// begin waits until no request with idem's key is running here, then
// registers this one; end must be called. It fails when ctx ends first.
func (f *flights) begin(ctx context.Context, idem *Idempotency) (end func(), err error) {
	k := string(idem.Scope) + "\x00" + idem.Key
	for {
		f.mu.Lock()
		if f.running == nil {
			f.running = make(map[string]chan struct{})
		}
		wait, busy := f.running[k]
		if !busy {
			done := make(chan struct{})
			f.running[k] = done
			f.mu.Unlock()
			return func() {
				f.mu.Lock()
				delete(f.running, k)
				f.mu.Unlock()
				close(done)
			}, nil
		}
		f.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
