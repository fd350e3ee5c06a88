package httpx

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/vigil-project/vigil/internal/service"
)

// ParseProxies parses trusted proxy addresses or CIDR ranges
// ("10.0.0.1", "10.1.0.0/16"), as given to `vigil serve --trusted-proxy`.
func ParseProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		for _, part := range strings.Split(s, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			if p, err := netip.ParsePrefix(part); err == nil {
				out = append(out, p.Masked())
				continue
			}
			a, err := netip.ParseAddr(part)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: not an IP address or CIDR range", part)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		}
	}
	return out, nil
}

// Proxies decides whom to believe about the client's address and scheme.
// The zero value trusts nobody: X-Forwarded-For and X-Forwarded-Proto are
// ignored, because any client can send them.
type Proxies []netip.Prefix

func (p Proxies) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, pr := range p {
		if pr.Contains(a) {
			return true
		}
	}
	return false
}

func peerAddr(r *http.Request) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	return a.Unmap(), err == nil
}

// ClientIP returns the client's address: the connection's peer, or, when
// the peer is a trusted proxy, the right-most X-Forwarded-For entry that is
// not itself a trusted proxy (the left-most entries are whatever the
// client wrote).
func (p Proxies) ClientIP(r *http.Request) string {
	peer, ok := peerAddr(r)
	if !ok {
		return r.RemoteAddr
	}
	if !p.trusted(peer) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a malformed hop: stop believing the chain here
		}
		if !p.trusted(a) {
			return a.Unmap().String()
		}
	}
	return peer.String()
}

// IsHTTPS reports whether the browser reached us over HTTPS: directly, or
// through a trusted proxy that says so in X-Forwarded-Proto.
func (p Proxies) IsHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	peer, ok := peerAddr(r)
	return ok && p.trusted(peer) && strings.EqualFold(strings.TrimSpace(r.Header.Get("X-Forwarded-Proto")), "https")
}

// Origin returns the request's origin for the audit log.
func (p Proxies) Origin(r *http.Request) service.Origin {
	return service.Origin{RemoteIP: p.ClientIP(r), UserAgent: r.UserAgent()}
}

// WithOrigin returns r with its origin in the context, for service.Audit.
func (p Proxies) WithOrigin(r *http.Request) *http.Request {
	return r.WithContext(service.WithOrigin(r.Context(), p.Origin(r)))
}
