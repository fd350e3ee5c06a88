package collect

import (
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/inventory"
)

func TestParseListeningDebian12(t *testing.T) {
	got, err := ParseListening(recording(t, "listening"))
	if err != nil {
		t.Fatal(err)
	}
	// What ss -ltnu showed on the machine at recording time; established
	// and TIME_WAIT sockets are left out, and there was no UDP socket.
	lo := "127.0.0.1"
	want := []inventory.Listener{
		tl("tcp", lo, 1883), tl("tcp", "0.0.0.0", 2024), tl("tcp", lo, 3306),
		tl("tcp", lo, 4222), tl("tcp", lo, 4369), tl("tcp", lo, 5432),
		tl("tcp", lo, 5672), tl("tcp", lo, 6379), tl("tcp", lo, 25672),
		tl("tcp6", "::1", 4369), tl("tcp6", "::1", 6379),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseListening =\n%+v\nwant\n%+v", got, want)
	}
}

// Constructed in the kernel's format: UDP sockets (the recording has none),
// a SO_REUSEPORT duplicate, a v4-mapped and a global IPv6 address, a
// connected UDP socket and an unbound one, and a kernel without IPv6.
func TestParseListeningConstructed(t *testing.T) {
	const (
		tcpHead = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
		tail    = " 00000000:00000000 00:00000000 00000000     0        0 1234 1 0000000000000000 100 0 0 10 0\n"
	)
	in := "==> /proc/net/tcp <==\n" + tcpHead +
		"   0: 00000000:0016 00000000:0000 0A" + tail +
		"   1: 0A00020F:0016 0A000202:C350 01" + tail +
		"==> /proc/net/tcp6 <==\n" + tcpHead +
		"   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A" + tail +
		"   1: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A" + tail +
		"   2: 0000000000000000FFFF00000100007F:1F90 00000000000000000000000000000000:0000 0A" + tail +
		"   3: B80D0120000000000000000001000000:01BB 00000000000000000000000000000000:0000 0A" + tail +
		"==> /proc/net/udp <==\n" + tcpHead +
		"  0: 3500007F:0035 00000000:0000 07" + tail +
		"  1: 00000000:0044 00000000:0000 07" + tail +
		"  2: 0F02000A:D2F4 08080808:0035 01" + tail +
		"  3: 00000000:0000 00000000:0000 07" + tail +
		"==> /proc/net/udp6 <==\n" + tcpHead +
		"  0: 00000000000000000000000000000000:0223 00000000000000000000000000000000:0000 07" + tail +
		"  1: 000080FE00000000FF005450B93412FE:0222 00000000000000000000000000000000:0000 07" + tail
	got, err := ParseListening([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []inventory.Listener{
		tl("tcp", "0.0.0.0", 22),
		tl("tcp6", "::", 80),
		tl("tcp6", "2001:db8::1", 443),
		tl("tcp6", "::ffff:127.0.0.1", 8080),
		tl("udp", "127.0.0.53", 53),
		tl("udp", "0.0.0.0", 68),
		tl("udp6", "fe80::5054:ff:fe12:34b9", 546),
		tl("udp6", "::", 547),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseListening =\n%+v\nwant\n%+v", got, want)
	}

	// A kernel without IPv6 and nothing listening: empty, not an error.
	got, err = ParseListening([]byte("==> /proc/net/tcp <==\n" + tcpHead + "==> /proc/net/udp <==\n" + tcpHead))
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("no listeners: %#v, %v", got, err)
	}
	for _, in := range []string{"", "  0: 00000000:0016 00000000:0000 0A\n", "==> /proc/net/raw <==\n"} {
		if _, err := ParseListening([]byte(in)); err == nil || !strings.HasPrefix(err.Error(), "parse listening: ") {
			t.Errorf("ParseListening(%q): err = %v", in, err)
		}
	}
}

func tl(proto, addr string, port int) inventory.Listener {
	return inventory.Listener{Proto: proto, Address: addr, Port: port}
}
