package collect

import (
	"errors"
	"strings"
)

// sysctlKeys are the kernel parameters the sysctl probe reads, as sysctl(8)
// names them.
var sysctlKeys = []string{
	"net.ipv4.ip_forward",
	"net.ipv4.conf.all.send_redirects",
	"net.ipv4.conf.default.send_redirects",
	"net.ipv4.conf.all.accept_source_route",
	"net.ipv4.conf.default.accept_source_route",
	"net.ipv4.conf.all.accept_redirects",
	"net.ipv4.conf.default.accept_redirects",
	"net.ipv4.conf.all.secure_redirects",
	"net.ipv4.conf.default.secure_redirects",
	"net.ipv4.conf.all.log_martians",
	"net.ipv4.conf.default.log_martians",
	"net.ipv4.conf.all.rp_filter",
	"net.ipv4.conf.default.rp_filter",
	"net.ipv4.icmp_echo_ignore_broadcasts",
	"net.ipv4.icmp_ignore_bogus_error_responses",
	"net.ipv4.tcp_syncookies",
	"net.ipv6.conf.all.forwarding",
	"net.ipv6.conf.all.accept_ra",
	"net.ipv6.conf.default.accept_ra",
	"net.ipv6.conf.all.accept_redirects",
	"net.ipv6.conf.default.accept_redirects",
	"net.ipv6.conf.all.accept_source_route",
	"net.ipv6.conf.default.accept_source_route",
	"kernel.randomize_va_space",
	"kernel.yama.ptrace_scope",
	"kernel.dmesg_restrict",
	"kernel.kptr_restrict",
	"fs.suid_dumpable",
	"fs.protected_hardlinks",
	"fs.protected_symlinks",
}

var sysctlKnown = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range sysctlKeys {
		m[k] = true
	}
	return m
}()

// sysctlCommand reads each key's file under /proc/sys with the shell's own
// read, one process for all keys, printing "net/ipv4/ip_forward=0". Keys the
// kernel lacks (no IPv6, no Yama) are left out. read's status is not
// trusted: dash's read returns 1 on /proc files although it read the line.
var sysctlCommand = func() string {
	paths := make([]string, len(sysctlKeys))
	for i, k := range sysctlKeys {
		paths[i] = strings.ReplaceAll(k, ".", "/")
	}
	return `cd /proc/sys && for f in ` + strings.Join(paths, " ") +
		`; do [ -r "$f" ] && { v=; read -r v < "$f"; echo "$f=$v"; }; done; true`
}()

// sysctl is the current value of a fixed list of kernel parameters
// (sysctlKeys), from /proc/sys, without root:
//
//	{"net.ipv4.ip_forward":"0","kernel.randomize_va_space":"2",...}
//
// A parameter the kernel does not have is absent. Values holding several
// numbers keep them separated by single spaces.
var sysctlItem = itemProbe{
	name:    "sysctl",
	command: sysctlCommand,
	parse:   func(out []byte) (any, error) { return ParseSysctl(out) },
}

// ParseSysctl reads "key=value" lines, the key with dots or slashes; lines
// for keys outside sysctlKeys are ignored.
func ParseSysctl(out []byte) (map[string]string, error) {
	m := map[string]string{}
	for _, line := range lines(string(out), false) {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k = strings.ReplaceAll(strings.TrimSpace(k), "/", ".")
		if sysctlKnown[k] {
			m[k] = strings.Join(strings.Fields(v), " ")
		}
	}
	if len(m) == 0 {
		return nil, errors.New("parse sysctl: no known key in output")
	}
	return m, nil
}
