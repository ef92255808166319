package httpserver

import (
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"github.com/notifyd/notifyd/notify"
)

// Default login rate limits, per minute (auth.login_per_minute_ip and
// auth.login_per_minute_user).
const (
	DefaultLoginPerMinuteIP   = 20
	DefaultLoginPerMinuteUser = 10
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

// loginLimits are the two login limiters: per client IP and per canonical
// username.
type loginLimits struct {
	ip   *keyedLimiter
	user *keyedLimiter
}

func newLoginLimits(perIP, perUser int, now func() time.Time) loginLimits {
	if perIP <= 0 {
		perIP = DefaultLoginPerMinuteIP
	}
	if perUser <= 0 {
		perUser = DefaultLoginPerMinuteUser
	}
	return loginLimits{ip: newKeyedLimiter(perIP, now), user: newKeyedLimiter(perUser, now)}
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
