package collect

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

var cpuProbe = Probe{
	Name:    "cpu",
	Command: "cat /proc/cpuinfo",
	apply: func(out []byte, _ time.Time, rep *inventory.HostReport) error {
		c, err := ParseCPUInfo(out)
		if err != nil {
			return err
		}
		rep.System.CPU = c
		return nil
	},
}

// modelKeys are the cpuinfo fields that name the processor, best first. Each
// architecture's kernel has its own: x86 "model name", ppc "cpu", MIPS "cpu
// model", old 32-bit ARM "Processor", Raspberry Pi "Model", RISC-V "uarch".
// Keys are case-sensitive on purpose: x86's lower-case "model" is a number.
var modelKeys = []string{"model name", "Processor", "cpu model", "cpu", "Model", "uarch"}

// plausibleCount bounds per-line counts so a corrupt file cannot overflow the
// sums below.
const plausibleCount = 1 << 20

// ParseCPUInfo summarises /proc/cpuinfo. Its layout differs per architecture
// and kernel version, so unknown fields are ignored and missing ones leave
// their value zero; only output with no "key : value" line at all is an error.
func ParseCPUInfo(out []byte) (inventory.CPU, error) {
	var (
		anyField      bool
		threads       int
		declared      int // s390x prints a total instead of one stanza per CPU
		models        = map[string]string{}
		vendor        string
		s390Machine   string
		armImpl       string
		armPart       string
		sockets       = map[string]bool{}
		coresBySocket = map[string]int{}
		phys          string
		cores         int
	)
	// Cores are per socket, so each stanza's "cpu cores" is filed under its
	// "physical id"; the stanza ends where the next "processor" begins
	// (aarch64 does not always leave a blank line between them).
	endStanza := func() {
		if _, seen := coresBySocket[phys]; cores > 0 && !seen {
			coresBySocket[phys] = cores
		}
		phys, cores = "", 0
	}
	for _, line := range strings.Split(string(out), "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if key == "" {
			continue
		}
		anyField = true
		switch key {
		case "processor":
			endStanza()
			threads++
		case "# processors":
			declared = count(val)
		case "physical id":
			phys = val
			sockets[val] = true
		case "cpu cores":
			cores = count(val)
		case "vendor_id":
			vendor = first(vendor, val)
		case "CPU implementer":
			armImpl = first(armImpl, val)
		case "CPU part":
			armPart = first(armPart, val)
		default:
			// s390x: "processor 0: version = FF,  identification = 0618E8,  machine = 8561"
			if strings.HasPrefix(key, "processor ") && s390Machine == "" {
				s390Machine = s390MachineType(val)
			}
			if _, seen := models[key]; !seen && val != "" {
				models[key] = val
			}
		}
	}
	endStanza()
	if !anyField {
		return inventory.CPU{}, errors.New(`parse cpuinfo: no "key : value" lines`)
	}

	c := inventory.CPU{Threads: threads, Sockets: len(sockets)}
	if declared > 0 {
		c.Threads = declared
	}
	if c.Sockets == 0 && c.Threads > 0 {
		c.Sockets = 1
	}
	if len(coresBySocket) > 0 {
		for _, n := range coresBySocket {
			c.Cores += n
		}
	} else {
		c.Cores = c.Threads
	}
	for _, k := range modelKeys {
		if m := models[k]; m != "" {
			c.Model = m
			break
		}
	}
	switch {
	case c.Model != "":
	case s390Machine != "":
		c.Model = strings.TrimSpace(vendor + " machine " + s390Machine)
	case armImpl != "" || armPart != "":
		c.Model = armModel(armImpl, armPart)
	}
	return c, nil
}

func count(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > plausibleCount {
		return 0
	}
	return n
}

func first(have, val string) string {
	if have != "" {
		return have
	}
	return val
}

func s390MachineType(val string) string {
	for _, f := range strings.Split(val, ",") {
		k, v, ok := strings.Cut(f, "=")
		if ok && strings.TrimSpace(k) == "machine" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Most aarch64 kernels name no model at all, only the implementer and part
// numbers; these are the server cores worth naming. lscpu carries the full
// table, and anything else is shown by number.
var (
	armImplementers = map[string]string{
		"0x41": "ARM", "0x42": "Broadcom", "0x43": "Cavium", "0x46": "Fujitsu",
		"0x48": "HiSilicon", "0x4e": "NVIDIA", "0x50": "APM", "0x51": "Qualcomm",
		"0x61": "Apple", "0xc0": "Ampere",
	}
	armParts = map[string]string{
		"0xd03": "Cortex-A53", "0xd07": "Cortex-A57", "0xd08": "Cortex-A72",
		"0xd0b": "Cortex-A76", "0xd0c": "Neoverse-N1", "0xd40": "Neoverse-V1",
		"0xd49": "Neoverse-N2", "0xd4f": "Neoverse-V2",
	}
)

func armModel(impl, part string) string {
	impl, part = strings.ToLower(impl), strings.ToLower(part)
	vendor, known := armImplementers[impl]
	switch {
	case known:
	case impl == "":
		vendor = "CPU"
	default:
		vendor = "CPU implementer " + impl
	}
	if name, ok := armParts[part]; ok && impl == "0x41" {
		return vendor + " " + name
	}
	return strings.TrimSpace(vendor + " part " + part)
}
