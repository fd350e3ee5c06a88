package httpx

import (
	"sync"
	"time"
)

// LoginLimiter slows password guessing. Each key (a client IP, a login)
// may fail Max times within Window, and the Max-th failure blocks the key
// for Window, and every further block doubles up to MaxBlock. A success clears
// the key. Blocking by login lets an attacker lock one account out for at
// most MaxBlock at a time; that is the price of not letting a botnet of
// many addresses guess one account's password.
type LoginLimiter struct {
	Max      int
	Window   time.Duration
	MaxBlock time.Duration
	Now      func() time.Time

	mu   sync.Mutex
	keys map[string]*loginKey
}

type loginKey struct {
	fails        []time.Time
	blocks       int
	blockedUntil time.Time
}

// maxLimiterKeys bounds the limiter's memory under a flood of addresses.
const maxLimiterKeys = 100_000

// NewLoginLimiter returns the default policy: 5 failures a minute, then
// blocks of 1, 2, 4 ... up to 15 minutes.
func NewLoginLimiter() *LoginLimiter {
	return &LoginLimiter{Max: 5, Window: time.Minute, MaxBlock: 15 * time.Minute, Now: time.Now}
}

// Wait returns how long the caller must wait before trying any of keys
// again, 0 when it may try now.
func (l *LoginLimiter) Wait(keys ...string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.Now()
	var wait time.Duration
	for _, k := range keys {
		if e := l.keys[k]; e != nil && now.Before(e.blockedUntil) {
			wait = max(wait, e.blockedUntil.Sub(now))
		}
	}
	return wait
}

// Fail records a failed attempt for every key.
func (l *LoginLimiter) Fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.Now()
	if l.keys == nil {
		l.keys = make(map[string]*loginKey)
	}
	if len(l.keys) >= maxLimiterKeys {
		l.prune(now)
	}
	for _, k := range keys {
		e := l.keys[k]
		if e == nil {
			e = &loginKey{}
			l.keys[k] = e
		}
		fresh := e.fails[:0]
		for _, t := range e.fails {
			if now.Sub(t) < l.Window {
				fresh = append(fresh, t)
			}
		}
		e.fails = append(fresh, now)
		if len(e.fails) >= l.Max {
			block := l.Window << min(e.blocks, 20)
			if block > l.MaxBlock {
				block = l.MaxBlock
			}
			e.blocks++
			e.blockedUntil = now.Add(block)
			e.fails = e.fails[:0]
		}
	}
}

// Succeed clears the keys.
func (l *LoginLimiter) Succeed(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		delete(l.keys, k)
	}
}

// prune drops keys that are neither blocked nor failed recently; when
// still full it starts over, preferring to forget over growing.
func (l *LoginLimiter) prune(now time.Time) {
	for k, e := range l.keys {
		if !now.Before(e.blockedUntil) && (len(e.fails) == 0 || now.Sub(e.fails[len(e.fails)-1]) >= l.Window) &&
			now.Sub(e.blockedUntil) > l.MaxBlock {
			delete(l.keys, k)
		}
	}
	if len(l.keys) >= maxLimiterKeys {
		l.keys = make(map[string]*loginKey)
	}
}
