package httpserver

import (
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"github.com/notifyd/notifyd/config"
	"github.com/notifyd/notifyd/notify"
)

// keyedLimiter is one token bucket per key (a client IP, a username):
// perMinute attempts per minute with bursts of perMinute.
//
// Idle buckets are evicted lazily on access, so there is no goroutine to
// stop: a bucket untouched for a full refill period is full again, exactly
// like a new one, so dropping it loses nothing.
type keyedLimiter struct {
	perMinute int
	now       func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim      *rate.Limiter
	lastSeen time.Time
}

// refillPeriod is how long an empty bucket takes to fill again (burst
// divided by rate), and so how long a bucket must be idle to be evicted.
const refillPeriod = time.Minute

func newKeyedLimiter(perMinute int, now func() time.Time) *keyedLimiter {
	return &keyedLimiter{perMinute: perMinute, now: now, buckets: make(map[string]*bucket)}
}

// take spends one attempt for key. It returns 0 when the attempt is
// allowed, else how long until one will be (and spends nothing).
func (l *keyedLimiter) take(key string) time.Duration {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweepLocked(now)
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(rate.Limit(float64(l.perMinute)/refillPeriod.Seconds()), l.perMinute)}
		l.buckets[key] = b
	}
	b.lastSeen = now
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return refillPeriod
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d
	}
	return 0
}

// check returns how long until key has an attempt, like take, but spends
// nothing.
func (l *keyedLimiter) check(key string) time.Duration {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil || b.lim.TokensAt(now) >= 1 {
		return 0
	}
	r := b.lim.ReserveN(now, 1)
	defer r.CancelAt(now)
	if !r.OK() {
		return refillPeriod
	}
	return r.DelayFrom(now)
}

// sweepLocked drops the buckets idle for a refill period, at most once per
// refill period, so the map holds only recently active keys.
func (l *keyedLimiter) sweepLocked(now time.Time) {
	if now.Sub(l.lastSweep) < refillPeriod {
		return
	}
	l.lastSweep = now
	for k, b := range l.buckets {
		if now.Sub(b.lastSeen) >= refillPeriod {
			delete(l.buckets, k)
		}
	}
}

// size returns the number of buckets held (for tests).
func (l *keyedLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// loginLimits are the login limiters: attempts per client address (IPv6
// by /64), attempts of all clients together, and failed logins per
// (username, client address).
//
// Failures are counted per username and address, not per username: a
// per-username count let anyone lock a user out by trying wrong passwords
// from elsewhere. An address with no failures is never refused by it.
type loginLimits struct {
	ip       *keyedLimiter
	all      *keyedLimiter // one bucket, key ""
	failures *keyedLimiter
}

func newLoginLimits(cfg config.Auth, now func() time.Time) loginLimits {
	return loginLimits{ip: newKeyedLimiter(cfg.LoginPerMinuteIP, now), all: newKeyedLimiter(cfg.LoginPerMinute, now),
		failures: newKeyedLimiter(cfg.LoginPerMinuteUser, now)}
}

// admit spends one attempt of the client's address and one of the global
// rate: it returns 0 when both allow the attempt, else how long to wait.
func (l loginLimits) admit(clientIP string) time.Duration {
	if wait := l.ip.take(notify.AddressKey(clientIP)); wait > 0 {
		return wait
	}
	return l.all.take("")
}

// failureKey is the bucket of failed logins for username from clientIP.
func failureKey(username, clientIP string) string {
	return notify.CanonicalUsername(username) + " " + notify.AddressKey(clientIP)
}

// rateLimited renders 429 with a Retry-After header in whole seconds
// (rounded up, at least 1).
func (s *responder) rateLimited(c *gin.Context, wait time.Duration) {
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	c.Header("Retry-After", strconv.Itoa(secs))
	s.renderError(c, notify.Errorf(notify.ERATELIMIT, "too many attempts; retry in %d s", secs))
}
