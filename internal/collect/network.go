package collect

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

// The network probe prints four parts separated by "==" lines: interfaces
// (ip -o link), their addresses (ip -o addr), the default route and
// /etc/resolv.conf. iproute2's -o puts each record on one line, with "\"
// where the multi-line form would break. A missing ip or resolv.conf leaves
// its part empty; "true" keeps the probe from failing on that alone.
const networkCommand = `ip -o link show; echo ==; ip -o addr show; echo ==; ip route show default; echo ==; cat /etc/resolv.conf 2>/dev/null; true`

var networkProbe = Probe{
	Name:    "network",
	Command: networkCommand,
	apply: func(out []byte, _ time.Time, rep *inventory.HostReport) error {
		n, err := ParseNetwork(out)
		// Whatever was found is kept: resolvers are worth having even
		// when ip is missing.
		listening := rep.System.Network.Listening
		rep.System.Network = n
		rep.System.Network.Listening = listening
		return err
	},
}

// ParseNetwork reads the network probe's output. It fills Interfaces,
// DefaultRoute and DNSServers, never Listening. When no interface is found
// it returns what it has together with an error.
func ParseNetwork(out []byte) (inventory.Network, error) {
	// Split at the first three "==" lines; a part may be empty (no ip),
	// and resolv.conf, last, is never split.
	var parts [4]strings.Builder
	cur := 0
	for _, line := range strings.SplitAfter(string(out), "\n") {
		if cur < 3 && strings.TrimRight(line, "\r\n") == "==" {
			cur++
			continue
		}
		parts[cur].WriteString(line)
	}
	if cur < 3 {
		return inventory.Network{}, errors.New(`parse network: want four parts separated by "==" lines`)
	}
	var n inventory.Network
	ifs := parseIPRecords(parts[0].String() + "\n" + parts[1].String())
	if len(ifs) > 0 {
		n.Interfaces = ifs
	}
	n.DefaultRoute = parseDefaultRoute(parts[2].String())
	n.DNSServers = parseResolvConf(parts[3].String())
	if len(n.Interfaces) == 0 {
		return n, errors.New("parse network: no interface in ip output (is iproute2 installed?)")
	}
	return n, nil
}

// parseIPRecords reads ip link and ip addr output, one-line (-o) or
// multi-line. A record starts "N: name..."; continuation lines (indented, or
// after "\" in the one-line form) belong to the record above. Records with
// the same index are one interface: link and addr output merge.
func parseIPRecords(s string) []inventory.Interface {
	var ifs []inventory.Interface
	byIndex := map[string]int{}
	cur := -1
	for _, line := range strings.Split(s, "\n") {
		for j, part := range strings.Split(line, `\`) {
			f := strings.Fields(part)
			if len(f) == 0 {
				continue
			}
			if j == 0 && part[0] != ' ' && part[0] != '\t' {
				cur = -1
				idx, ok := strings.CutSuffix(f[0], ":")
				if !ok || !isDigits(idx) || len(f) < 2 {
					continue
				}
				name := strings.TrimSuffix(f[1], ":")
				if at := strings.IndexByte(name, '@'); at > 0 {
					name = name[:at] // veth0@if45, eth0.10@eth0
				}
				if name == "" {
					continue
				}
				i, seen := byIndex[idx]
				if !seen {
					i = len(ifs)
					byIndex[idx] = i
					ifs = append(ifs, inventory.Interface{Name: name})
				}
				cur = i
				f = f[2:]
			}
			if cur >= 0 {
				applyIPTokens(&ifs[cur], f)
			}
		}
	}
	return ifs
}

// applyIPTokens picks flags, mtu, state, hardware address and addresses out
// of one record line's words.
func applyIPTokens(ifc *inventory.Interface, f []string) {
	for k := 0; k < len(f); k++ {
		tok := f[k]
		next := ""
		if k+1 < len(f) {
			next = f[k+1]
		}
		switch {
		case len(tok) >= 2 && tok[0] == '<' && tok[len(tok)-1] == '>':
			ifc.Up = false
			for _, flag := range strings.Split(tok[1:len(tok)-1], ",") {
				if flag == "UP" {
					ifc.Up = true
				}
			}
		case tok == "mtu":
			if m, err := strconv.Atoi(next); err == nil && m > 0 && m <= 1<<20 {
				ifc.MTU = m
			}
			k++
		case tok == "state":
			// The admin flag says UP; the operational state can still be
			// down (no carrier). UNKNOWN is what lo and tun report.
			switch next {
			case "DOWN", "LOWERLAYERDOWN", "NOTPRESENT":
				ifc.Up = false
			}
			k++
		case strings.HasPrefix(tok, "link/"):
			if tok != "link/loopback" && isMAC(next) && strings.Trim(next, "0:") != "" && ifc.MAC == "" {
				ifc.MAC = strings.ToLower(next)
			}
			k++
		case tok == "inet" || tok == "inet6":
			if a, ok := cidr(next); ok && !contains(ifc.Addresses, a) {
				ifc.Addresses = append(ifc.Addresses, a)
			}
			k++
		}
	}
}

// cidr normalises an address as ip prints it: "10.0.0.1/24", or a bare
// address (the local side of a point-to-point "peer" line) as a host prefix.
func cidr(s string) (string, bool) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.String(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return "", false
	}
	return netip.PrefixFrom(a, a.BitLen()).String(), true
}

// isMAC accepts colon-separated hex octets: 6 for Ethernet, 20 for
// InfiniBand. Tunnels print an IPv4 address or nothing in its place.
func isMAC(s string) bool {
	parts := strings.Split(s, ":")
	if len(parts) < 6 || len(parts) > 32 {
		return false
	}
	for _, p := range parts {
		if len(p) != 2 || !isHex(p) {
			return false
		}
	}
	return true
}

// parseDefaultRoute reads "ip route show default": the default route with
// the lowest metric wins. A multipath route names its first next hop on the
// "nexthop" lines that follow.
func parseDefaultRoute(s string) *inventory.Route {
	var best *inventory.Route
	bestMetric := uint64(0)
	var cur *inventory.Route
	var curMetric uint64
	consider := func() {
		if cur != nil && (cur.Gateway != "" || cur.Interface != "") && (best == nil || curMetric < bestMetric) {
			best, bestMetric = cur, curMetric
		}
		cur = nil
	}
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		indented := line[0] == ' ' || line[0] == '\t'
		switch {
		case f[0] == "default" && !indented:
			consider()
			cur, curMetric = &inventory.Route{}, 0
			routeTokens(cur, &curMetric, f[1:])
		case f[0] == "nexthop" && cur != nil && cur.Gateway == "" && cur.Interface == "":
			routeTokens(cur, &curMetric, f[1:])
		case !indented:
			consider()
		}
	}
	consider()
	return best
}

func routeTokens(r *inventory.Route, metric *uint64, f []string) {
	for k := 0; k+1 < len(f); k++ {
		switch f[k] {
		case "via":
			v := f[k+1]
			if (v == "inet" || v == "inet6") && k+2 < len(f) {
				k++
				v = f[k+1]
			}
			if a, err := netip.ParseAddr(v); err == nil && r.Gateway == "" {
				r.Gateway = a.String()
			}
		case "dev":
			if r.Interface == "" {
				r.Interface = f[k+1]
			}
		case "metric":
			if m, err := strconv.ParseUint(f[k+1], 10, 32); err == nil {
				*metric = m
			}
		default:
			continue
		}
		k++
	}
}

// parseResolvConf returns the nameserver addresses, in order, without
// duplicates. glibc reads "nameserver ADDR" and ignores the rest of the line.
func parseResolvConf(s string) []string {
	var servers []string
	for _, line := range lines(s, true) {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "nameserver" {
			continue
		}
		a, err := netip.ParseAddr(f[1])
		if err != nil {
			continue
		}
		if v := a.String(); !contains(servers, v) {
			servers = append(servers, v)
		}
	}
	return servers
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return s != ""
}
