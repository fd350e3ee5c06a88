package httpx

import (
	"crypto/tls"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

func TestClientIPAndHTTPS(t *testing.T) {
	proxies, err := ParseProxies([]string{"10.0.0.1, 192.168.0.0/16", "::1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseProxies([]string{"not-an-ip"}); err == nil {
		t.Error("bad proxy accepted")
	}
	tests := []struct {
		name    string
		proxies Proxies
		remote  string
		xff     []string
		proto   string
		tls     bool
		wantIP  string
		wantTLS bool
	}{
		{"no proxy configured: header ignored", nil, "203.0.113.9:5000", []string{"1.2.3.4"}, "https", false, "203.0.113.9", false},
		{"untrusted peer: header ignored", proxies, "203.0.113.9:5000", []string{"1.2.3.4"}, "https", false, "203.0.113.9", false},
		{"trusted proxy", proxies, "10.0.0.1:5000", []string{"198.51.100.7"}, "https", false, "198.51.100.7", true},
		{"client-written hops on the left are skipped", proxies, "10.0.0.1:5000", []string{"6.6.6.6, 198.51.100.7"}, "", false, "198.51.100.7", false},
		{"chain of trusted proxies", proxies, "10.0.0.1:5000", []string{"198.51.100.7, 192.168.1.2", "192.168.3.4"}, "", false, "198.51.100.7", false},
		{"garbage hop stops the walk", proxies, "10.0.0.1:5000", []string{"198.51.100.7, junk"}, "", false, "10.0.0.1", false},
		{"only proxies in the chain", proxies, "10.0.0.1:5000", []string{"192.168.1.1"}, "", false, "10.0.0.1", false},
		{"ipv6 loopback proxy", proxies, "[::1]:5000", []string{"2001:db8::5"}, "HTTPS", false, "2001:db8::5", true},
		{"direct TLS", nil, "203.0.113.9:5000", nil, "", true, "203.0.113.9", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if tt.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tt.proto)
			}
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if got := tt.proxies.ClientIP(r); got != tt.wantIP {
				t.Errorf("ClientIP = %q, want %q", got, tt.wantIP)
			}
			if got := tt.proxies.IsHTTPS(r); got != tt.wantTLS {
				t.Errorf("IsHTTPS = %v, want %v", got, tt.wantTLS)
			}
		})
	}
}

func TestLoginLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := NewLoginLimiter()
	l.Now = func() time.Time { return now }
	ip, login := "ip:198.51.100.7", "login:admin"

	for i := range 4 {
		if w := l.Wait(ip, login); w != 0 {
			t.Fatalf("blocked after %d failures", i)
		}
		l.Fail(ip, login)
		now = now.Add(time.Second)
	}
	if w := l.Wait(ip, login); w != 0 {
		t.Fatal("blocked after 4 failures")
	}
	l.Fail(ip, login) // the fifth within a minute
	if w := l.Wait(login); w != time.Minute {
		t.Fatalf("wait = %v after 5 failures, want 1m", w)
	}
	if w := l.Wait("login:someone-else"); w != 0 {
		t.Fatalf("another login is blocked: %v", w)
	}
	now = now.Add(time.Minute)
	if w := l.Wait(ip, login); w != 0 {
		t.Fatalf("still blocked after the block: %v", w)
	}
	// The next five failures block for twice as long, and so on up to the cap.
	for _, want := range []time.Duration{2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute, 15 * time.Minute} {
		for range 5 {
			l.Fail(login)
		}
		if w := l.Wait(login); w != want {
			t.Fatalf("wait = %v, want %v", w, want)
		}
		now = now.Add(want)
	}
	// Failures spread out (one every 15 s) never block.
	l2 := NewLoginLimiter()
	l2.Now = func() time.Time { return now }
	for range 20 {
		l2.Fail(ip)
		now = now.Add(15 * time.Second)
		if w := l2.Wait(ip); w != 0 {
			t.Fatalf("slow failures blocked: %v", w)
		}
	}
	l.Succeed(login)
	if w := l.Wait(login); w != 0 {
		t.Fatalf("blocked after success: %v", w)
	}
}

// FuzzClientIP: whatever a client writes in X-Forwarded-For, the answer
// is an IP address, and never one written by the client when the peer is
// not a trusted proxy.
func FuzzClientIP(f *testing.F) {
	f.Add("10.0.0.1:5000", "198.51.100.7, 10.0.0.2")
	f.Add("203.0.113.9:1", "1.2.3.4")
	f.Add("[::1]:80", "2001:db8::1,,junk")
	f.Add("10.0.0.1:5000", "::ffff:192.0.2.1")
	f.Add("not-an-address", "")
	list, _ := ParseProxies([]string{"10.0.0.0/8", "::1"})
	proxies := Proxies(list)
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", xff)
		got := proxies.ClientIP(r)
		peer, ok := peerAddr(r)
		if !ok {
			if got != remote {
				t.Fatalf("unparsable peer %q gave %q", remote, got)
			}
			return
		}
		if _, err := netip.ParseAddr(got); err != nil {
			t.Fatalf("ClientIP = %q, not an address", got)
		}
		if !proxies.trusted(peer) && got != peer.String() {
			t.Fatalf("untrusted peer %s, yet ClientIP = %q", peer, got)
		}
	})
}
