package collect

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

// The kernel's socket tables are world-readable, so listening sockets are
// known without root (their processes are not: /proc/PID/fd needs it). A
// kernel without IPv6 has no tcp6/udp6; the loop prints what exists.
const listeningCommand = `for f in /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6; do [ -r "$f" ] && { echo "==> $f <=="; cat "$f"; }; done; true`

var listeningProbe = Probe{
	Name:    "listening",
	Command: listeningCommand,
	apply: func(out []byte, _ time.Time, rep *inventory.HostReport) error {
		ls, err := ParseListening(out)
		if err != nil {
			return err
		}
		rep.System.Network.Listening = ls
		return nil
	},
}

// Socket states in /proc/net/{tcp,udp}: include/net/tcp_states.h.
const (
	tcpListen = "0A"
	udpClose  = "07" // an unconnected UDP socket, bound or not
)

var socketTables = map[string]string{
	"/proc/net/tcp":  "tcp",
	"/proc/net/tcp6": "tcp6",
	"/proc/net/udp":  "udp",
	"/proc/net/udp6": "udp6",
}

// ParseListening reads the listening probe's output: /proc/net/tcp, tcp6,
// udp and udp6, each after a "==> PATH <==" header. It returns TCP sockets in
// LISTEN and UDP sockets bound to a port, without duplicates (SO_REUSEPORT
// groups list one socket per worker), sorted by proto, port and address.
//
// Addresses are decoded as a little-endian kernel prints them; on a
// big-endian host (s390x, ppc64) the IPv4 and IPv6 words come out reversed.
func ParseListening(out []byte) ([]inventory.Listener, error) {
	known := 0
	seen := map[inventory.Listener]bool{}
	ls := []inventory.Listener{}
	for _, sec := range parseSections(out) {
		proto, ok := socketTables[sec.name]
		if !ok {
			continue
		}
		known++
		for _, line := range lines(sec.content, false) {
			l, ok := parseSocketLine(proto, line)
			if !ok || seen[l] {
				continue
			}
			seen[l] = true
			ls = append(ls, l)
		}
	}
	if known == 0 {
		return nil, errors.New(`parse listening: no "==> /proc/net/... <==" section in output`)
	}
	slices.SortFunc(ls, func(a, b inventory.Listener) int {
		if c := strings.Compare(a.Proto, b.Proto); c != 0 {
			return c
		}
		if a.Port != b.Port {
			return a.Port - b.Port
		}
		return strings.Compare(a.Address, b.Address)
	})
	return ls, nil
}

// parseSocketLine reads "0: 0100007F:1538 00000000:0000 0A ...".
func parseSocketLine(proto, line string) (inventory.Listener, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasSuffix(f[0], ":") {
		return inventory.Listener{}, false
	}
	switch {
	case strings.HasPrefix(proto, "tcp") && f[3] == tcpListen:
	case strings.HasPrefix(proto, "udp") && f[3] == udpClose:
	default:
		return inventory.Listener{}, false
	}
	hexAddr, hexPort, ok := strings.Cut(f[1], ":")
	if !ok || len(hexPort) != 4 {
		return inventory.Listener{}, false
	}
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if err != nil || port == 0 {
		return inventory.Listener{}, false
	}
	want := 8
	if strings.HasSuffix(proto, "6") {
		want = 32
	}
	addr, ok := procNetAddr(hexAddr)
	if !ok || len(hexAddr) != want {
		return inventory.Listener{}, false
	}
	return inventory.Listener{Proto: proto, Address: addr.String(), Port: int(port)}, true
}

// procNetAddr decodes the kernel's "%08X" of an IPv4 address or the four
// "%08X" words of an IPv6 one, each a network-order word read as a
// little-endian integer.
func procNetAddr(s string) (netip.Addr, bool) {
	if len(s) != 8 && len(s) != 32 {
		return netip.Addr{}, false
	}
	raw, err := hex.DecodeString(s)
	if err != nil {
		return netip.Addr{}, false
	}
	var b [16]byte
	for w := 0; w < len(raw)/4; w++ {
		binary.LittleEndian.PutUint32(b[w*4:], binary.BigEndian.Uint32(raw[w*4:]))
	}
	if len(raw) == 4 {
		return netip.AddrFrom4([4]byte(b[:4])), true
	}
	return netip.AddrFrom16(b), true
}
