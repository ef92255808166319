package natsbroker

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// The envelope of every message on NATS:
//
//	version (1) | sender (16) | counter (8) | sent at (8, Unix ns) | AES-256-GCM(payload) with its tag (16)
//
// The header is authenticated with the subject as additional data, so a
// message cannot be moved to another user's subject, nor its time or
// counter changed. Each sender (one per process start) seals with its own
// key, HKDF-SHA256(cluster.secret, salt, "sender"||id), and uses its
// counter as the nonce: a nonce never repeats under a key, whatever the
// number of messages, without relying on random nonces.
const (
	envelopeVersion = 1
	senderIDBytes   = 16
	headerBytes     = 1 + senderIDBytes + 8 + 8
	tagBytes        = 16
	// envelopeOverhead is what sealing adds to a payload.
	envelopeOverhead = headerBytes + tagBytes
)

// hkdfSalt separates these keys from any other use of cluster.secret
// (the Postgres broker's HMAC derives its own).
const hkdfSalt = "notifyd nats envelope v1"

// senderID names one sealing process.
type senderID [senderIDBytes]byte

// keyring derives the AEAD of each sender from cluster.secret.
type keyring struct{ prk []byte }

func newKeyring(secret []byte) (keyring, error) {
	if len(secret) == 0 {
		return keyring{}, errors.New("natsbroker: empty secret")
	}
	prk, err := hkdf.Extract(sha256.New, secret, []byte(hkdfSalt))
	if err != nil {
		return keyring{}, fmt.Errorf("natsbroker: derive key: %w", err)
	}
	return keyring{prk: prk}, nil
}

// aead returns the AES-256-GCM of sender id.
func (k keyring) aead(id senderID) (cipher.AEAD, error) {
	key, err := hkdf.Expand(sha256.New, k.prk, "sender"+string(id[:]), 32)
	if err != nil {
		return nil, fmt.Errorf("natsbroker: derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("natsbroker: cipher: %w", err)
	}
	return cipher.NewGCM(block)
}

// sealer seals the messages of this process. Safe for concurrent use.
type sealer struct {
	id      senderID
	aead    cipher.AEAD
	counter atomic.Uint64
	now     func() time.Time
}

func newSealer(k keyring, now func() time.Time) (*sealer, error) {
	var id senderID
	_, _ = rand.Read(id[:]) // never fails (crypto/rand)
	a, err := k.aead(id)
	if err != nil {
		return nil, err
	}
	return &sealer{id: id, aead: a, now: now}, nil
}

// seal returns payload sealed for subject.
func (s *sealer) seal(subject string, payload []byte) []byte {
	n := s.counter.Add(1)
	out := make([]byte, headerBytes, headerBytes+len(payload)+tagBytes)
	out[0] = envelopeVersion
	copy(out[1:], s.id[:])
	binary.BigEndian.PutUint64(out[1+senderIDBytes:], n)
	binary.BigEndian.PutUint64(out[1+senderIDBytes+8:], uint64(s.now().UnixNano()))
	return s.aead.Seal(out, nonce(n), payload, additional(out[:headerBytes], subject))
}

// nonce is the 12-byte GCM nonce of counter n.
func nonce(n uint64) []byte {
	var b [12]byte
	binary.BigEndian.PutUint64(b[4:], n)
	return b[:]
}

// additional is the data authenticated with the ciphertext: the header
// and the subject.
func additional(header []byte, subject string) []byte {
	ad := make([]byte, 0, len(header)+len(subject))
	return append(append(ad, header...), subject...)
}
