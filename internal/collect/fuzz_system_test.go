package collect

import (
	"net/netip"
	"strings"
	"testing"
)

// Fuzz tests for the hardware, filesystems, network and listening parsers;
// seeds in testdata/fuzz/<FuzzName>/ are the real recordings and samples
// their table tests use.

func FuzzParseNetwork(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		n, err := ParseNetwork(out)
		checkErrPrefix(t, err, "parse network: ")
		for _, ifc := range n.Interfaces {
			if ifc.Name == "" || strings.ContainsAny(ifc.Name, " \t\n@") || ifc.MTU < 0 {
				t.Errorf("interface %+v", ifc)
			}
			if ifc.MAC != "" && !isMAC(ifc.MAC) {
				t.Errorf("mac %q", ifc.MAC)
			}
			for _, a := range ifc.Addresses {
				if _, err := netip.ParsePrefix(a); err != nil {
					t.Errorf("address %q: %v", a, err)
				}
			}
		}
		if r := n.DefaultRoute; r != nil {
			if r.Gateway == "" && r.Interface == "" {
				t.Error("empty default route")
			}
			if _, err := netip.ParseAddr(r.Gateway); r.Gateway != "" && err != nil {
				t.Errorf("gateway %q", r.Gateway)
			}
		}
		for _, s := range n.DNSServers {
			if _, err := netip.ParseAddr(s); err != nil {
				t.Errorf("dns server %q", s)
			}
		}
		if err == nil && len(n.Interfaces) == 0 {
			t.Error("no interfaces without an error")
		}
	})
}

func FuzzParseListening(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		ls, err := ParseListening(out)
		checkErrPrefix(t, err, "parse listening: ")
		if err == nil && ls == nil {
			t.Error("nil slice without an error")
		}
		seen := map[string]bool{}
		for i, l := range ls {
			if _, ok := socketTables["/proc/net/"+l.Proto]; !ok || l.Port < 1 || l.Port > 65535 {
				t.Errorf("listener %+v", l)
			}
			if a, err := netip.ParseAddr(l.Address); err != nil || a.Is4() != !strings.HasSuffix(l.Proto, "6") {
				t.Errorf("listener %+v", l)
			}
			key := l.Proto + " " + l.Address + " " + string(rune(l.Port))
			if seen[key] {
				t.Errorf("duplicate %+v", l)
			}
			seen[key] = true
			if i > 0 && (ls[i-1].Proto > l.Proto || ls[i-1].Proto == l.Proto && ls[i-1].Port > l.Port) {
				t.Errorf("not sorted at %d: %+v", i, ls)
			}
		}
	})
}

func FuzzParseDF(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		fss, err := ParseDF(out)
		checkErrPrefix(t, err, "parse df: ")
		if err == nil && fss == nil {
			t.Error("nil slice without an error")
		}
		seen := map[string]bool{}
		for _, fs := range fss {
			if fs.Device == "" || !strings.HasPrefix(fs.Mountpoint, "/") || seen[fs.Mountpoint] || skipFilesystem(fs) {
				t.Errorf("file system %+v", fs)
			}
			seen[fs.Mountpoint] = true
		}
	})
}

func FuzzParseHardware(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		h, err := ParseHardware(out)
		checkErrPrefix(t, err, "parse hardware: ")
		switch h.Cloud {
		case "", "aws", "azure", "gcp", "other", "on-prem":
		default:
			t.Errorf("cloud %q", h.Cloud)
		}
		if h.Virtualization != "vm (unknown hypervisor)" && h.Virtualization != "" && !isVirtWord(h.Virtualization) {
			t.Errorf("virtualization %q", h.Virtualization)
		}
		for _, s := range []string{h.Vendor, h.Product, h.Serial, h.UUID, h.BIOSVersion} {
			if s != strings.TrimSpace(s) || strings.ContainsAny(s, "\n\r\x00") {
				t.Errorf("hardware %+v", h)
			}
		}
	})
}
