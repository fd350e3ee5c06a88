package collect

import (
	"errors"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

// The hardware probe prints KEY=VALUE lines: DMI fields from sysfs (serial
// and UUID are mode 0400 on most kernels, so without root they print empty),
// systemd-detect-virt's verdict, whether /proc/cpuinfo has the hypervisor
// flag, and Xen's /sys/hypervisor/type. Every line is printed even when its
// source is missing (or an empty file, which cat would leave without a line
// end), and echo ends the command, so it never fails.
const hardwareCommand = `for f in sys_vendor product_name product_version bios_vendor bios_version product_serial product_uuid chassis_vendor chassis_asset_tag board_vendor; do echo "$f=$(cat /sys/class/dmi/id/$f 2>/dev/null)"; done; echo "virt=$(systemd-detect-virt 2>/dev/null)"; echo "cpu_hypervisor=$(grep -m1 -o -w hypervisor /proc/cpuinfo 2>/dev/null)"; echo "hypervisor_type=$(cat /sys/hypervisor/type 2>/dev/null)"`

var hardwareProbe = Probe{
	Name:    "hardware",
	Command: hardwareCommand,
	apply: func(out []byte, _ time.Time, rep *inventory.HostReport) error {
		h, err := ParseHardware(out)
		if err != nil {
			return err
		}
		rep.System.Hardware = h
		return nil
	},
}

var dmiKeys = []string{"sys_vendor", "product_name", "product_version", "bios_vendor", "bios_version",
	"product_serial", "product_uuid", "chassis_vendor", "chassis_asset_tag", "board_vendor"}

// dmiPlaceholders are what firmware writes when a field was never filled.
var dmiPlaceholders = map[string]bool{
	"to be filled by o.e.m.": true, "to be filled by oem": true, "not specified": true,
	"default string": true, "none": true, "n/a": true, "not applicable": true,
	"not available": true, "system serial number": true, "0123456789": true,
	"00000000-0000-0000-0000-000000000000": true, "ffffffff-ffff-ffff-ffff-ffffffffffff": true,
	"03000200-0400-0500-0006-000700080009": true, "system manufacturer": true,
	"system product name": true, "o.e.m.": true,
}

// ParseHardware reads the hardware probe's output. Only output with none of
// the probe's keys is an error: a container or a host without DMI gives an
// empty but valid result.
func ParseHardware(out []byte) (inventory.Hardware, error) {
	kv := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		key, val, ok := strings.Cut(strings.TrimRight(line, "\r"), "=")
		if !ok {
			continue
		}
		if _, dup := kv[key]; dup {
			continue
		}
		switch key {
		case "virt", "cpu_hypervisor", "hypervisor_type":
		default:
			if !contains(dmiKeys, key) {
				continue
			}
		}
		val = strings.TrimSpace(strings.Map(func(r rune) rune {
			if r < ' ' || r == 0x7f {
				return -1
			}
			return r
		}, val))
		if contains(dmiKeys, key) && dmiPlaceholders[strings.ToLower(val)] {
			val = ""
		}
		kv[key] = truncate(val, 256)
	}
	if len(kv) == 0 {
		return inventory.Hardware{}, errors.New("parse hardware: no KEY=VALUE line of the probe in output")
	}
	h := inventory.Hardware{
		Vendor:      kv["sys_vendor"],
		Product:     kv["product_name"],
		Serial:      kv["product_serial"],
		UUID:        strings.ToLower(kv["product_uuid"]),
		BIOSVersion: kv["bios_version"],
	}
	if h.Serial == "0" {
		h.Serial = "" // VirtualBox
	}
	dmi := false
	for _, k := range dmiKeys {
		if kv[k] != "" {
			dmi = true
		}
	}
	h.Virtualization = virtualization(kv, dmi)
	h.Cloud = cloud(kv, dmi)
	return h, nil
}

// virtualization prefers systemd-detect-virt's word, then the hypervisor
// Xen announces, then what DMI names (the same vendor strings
// systemd-detect-virt reads), then the CPU flag every hypervisor sets.
// "none" needs DMI that names no hypervisor and no CPU flag.
func virtualization(kv map[string]string, dmi bool) string {
	if v := strings.ToLower(kv["virt"]); isVirtWord(v) {
		return v
	}
	if t := strings.ToLower(kv["hypervisor_type"]); isVirtWord(t) {
		return t
	}
	if v := dmiHypervisor(kv); v != "" {
		return v
	}
	if kv["cpu_hypervisor"] == "hypervisor" {
		return "vm (unknown hypervisor)"
	}
	if dmi {
		return "none"
	}
	return ""
}

func isVirtWord(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// dmiVendors maps DMI vendor strings to systemd-detect-virt's names.
var dmiVendors = []struct{ match, virt string }{
	{"kvm", "kvm"},
	{"amazon ec2", "amazon"},
	{"qemu", "qemu"},
	{"vmware", "vmware"},
	{"innotek gmbh", "oracle"},
	{"virtualbox", "oracle"},
	{"oracle corporation", "oracle"},
	{"xen", "xen"},
	{"bochs", "bochs"},
	{"parallels", "parallels"},
	{"bhyve", "bhyve"},
	{"google", "google"},
}

func dmiHypervisor(kv map[string]string) string {
	// Hyper-V and Azure say "Microsoft Corporation" / "Virtual Machine";
	// Microsoft's own hardware (Surface) says the same vendor.
	if kv["sys_vendor"] == "Microsoft Corporation" && kv["product_name"] == "Virtual Machine" {
		return "microsoft"
	}
	for _, k := range []string{"sys_vendor", "product_name", "bios_vendor", "board_vendor"} {
		v := strings.ToLower(kv[k])
		if v == "" {
			continue
		}
		for _, d := range dmiVendors {
			// Oracle also makes servers: only its VirtualBox board
			// counts, and only with VirtualBox in the product.
			if d.match == "oracle corporation" && !strings.Contains(strings.ToLower(kv["product_name"]), "virtualbox") {
				continue
			}
			if strings.Contains(v, d.match) {
				return d.virt
			}
		}
	}
	return ""
}

// azureAssetTag is the chassis asset tag every Azure VM carries.
const azureAssetTag = "7783-7084-3265-9085-8269-3286-77"

// cloud judges the provider from DMI alone; no metadata service is asked.
func cloud(kv map[string]string, dmi bool) string {
	lower := func(k string) string { return strings.ToLower(kv[k]) }
	switch {
	case strings.Contains(lower("sys_vendor"), "amazon ec2") || strings.Contains(lower("bios_vendor"), "amazon ec2") ||
		strings.Contains(lower("bios_version"), "amazon") || strings.HasPrefix(lower("product_uuid"), "ec2"):
		return "aws"
	case kv["sys_vendor"] == "Microsoft Corporation" && kv["chassis_asset_tag"] == azureAssetTag:
		return "azure"
	case strings.HasPrefix(kv["product_name"], "Google") || strings.HasPrefix(kv["bios_vendor"], "Google") || strings.HasPrefix(kv["sys_vendor"], "Google"):
		return "gcp"
	}
	for _, k := range []string{"sys_vendor", "product_name", "bios_vendor", "chassis_vendor", "chassis_asset_tag"} {
		v := lower(k)
		for _, c := range []string{"digitalocean", "hetzner", "openstack", "alibaba cloud", "oraclecloud.com"} {
			if strings.Contains(v, c) {
				return "other"
			}
		}
	}
	if dmi {
		return "on-prem"
	}
	return ""
}
