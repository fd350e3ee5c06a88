package collect

import (
	"fmt"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport"
)

// The privileged probes are the only commands the agent ever runs with
// root, and only through `sudo -n` (never a password prompt) when the host's
// Sudo option allows it. Each is one fixed command with fixed arguments, so
// a sudoers rule can allow exactly it and nothing else (docs/privileges.md,
// generated from this list).
type privilegedProbe struct {
	name    string
	purpose string
	// program is the command's name as sudo resolves it through its
	// secure_path; paths are where distributions install it, for the
	// sudoers rules (sudo matches a rule by path or by inode, so listing a
	// path a host lacks is harmless).
	program string
	paths   []string
	args    string
	apply   func(out []byte, now time.Time, rep *inventory.HostReport) error
}

var privilegedProbes = []privilegedProbe{
	{
		name:    "dmi_ids",
		purpose: "hardware serial number and system UUID (DMI files readable by root only)",
		program: "cat", paths: []string{"/usr/bin/cat", "/bin/cat"},
		args:  "/sys/class/dmi/id/product_serial /sys/class/dmi/id/product_uuid",
		apply: applyDMIIDs,
	},
	{
		name:    "listening_processes",
		purpose: "the process behind each listening socket (other users' /proc/PID/fd need root)",
		program: "ss", paths: []string{"/usr/bin/ss", "/usr/sbin/ss", "/bin/ss", "/sbin/ss"},
		args:  "-tulpn",
		apply: applyListeningProcesses,
	},
	{
		name:    "account_status",
		purpose: "whether each account's password is locked (from /etc/shadow, without reading any hash)",
		program: "passwd", paths: []string{"/usr/bin/passwd", "/bin/passwd"},
		args:  "-S -a",
		apply: applyAccountStatus,
	},
	{
		name:    "sudoers",
		purpose: "who may use sudo, from /etc/sudoers and /etc/sudoers.d (mode 0440/0750)",
		program: "grep", paths: []string{"/usr/bin/grep", "/bin/grep"},
		args:  "-rH . /etc/sudoers /etc/sudoers.d",
		apply: applySudoers,
	},
}

func (p privilegedProbe) command() string { return "sudo -n " + p.program + " " + p.args }

// sudoProbes turns privileged probes into batch probes.
func sudoProbes(l []privilegedProbe) []Probe {
	out := make([]Probe, len(l))
	for i, p := range l {
		out[i] = Probe{Name: p.name, Command: p.command(), apply: p.apply, privileged: true}
	}
	return out
}

// PrivilegedProbe describes one probe that needs root.
type PrivilegedProbe struct {
	Name    string
	Purpose string
	// Command is exactly what the agent runs on the host.
	Command string
	// RootCommand is what sudo runs as root: Command without "sudo -n ".
	// `sudo -n -l <RootCommand>` asks whether sudoers allows it without
	// running it.
	RootCommand string
	// SudoersCommands are the sudoers command specifications that allow
	// Command and nothing else, one per path the program has on the
	// supported distributions.
	SudoersCommands []string
}

// PrivilegedProbes lists the probes that run through `sudo -n` when a host
// allows it, in the order a scan runs them.
func PrivilegedProbes() []PrivilegedProbe {
	out := make([]PrivilegedProbe, len(privilegedProbes))
	for i, p := range privilegedProbes {
		pp := PrivilegedProbe{Name: p.name, Purpose: p.purpose, Command: p.command(), RootCommand: p.program + " " + p.args}
		for _, path := range p.paths {
			pp.SudoersCommands = append(pp.SudoersCommands, path+" "+p.args)
		}
		out[i] = pp
	}
	return out
}

// SudoersSnippet is the sudoers file that allows user the privileged probes
// and nothing else.
func SudoersSnippet(user string) string {
	var b strings.Builder
	b.WriteString("# Vigil agent: read-only privileged probes (docs/privileges.md).\n")
	b.WriteString("# Install as /etc/sudoers.d/vigil, mode 0440, and check with: visudo -cf /etc/sudoers.d/vigil\n")
	b.WriteString("Defaults:" + user + " !requiretty\n")
	var specs []string
	for _, p := range PrivilegedProbes() {
		specs = append(specs, p.SudoersCommands...)
	}
	b.WriteString("Cmnd_Alias VIGIL_PROBES = \\\n")
	for i, s := range specs {
		b.WriteString("    " + s)
		if i < len(specs)-1 {
			b.WriteString(", \\")
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "%s ALL=(root) NOPASSWD: VIGIL_PROBES\n", user)
	return b.String()
}

// sudoRefused reports whether a privileged probe failed because sudo would
// not run it (no rule, a password required, no sudo at all) rather than
// because the command itself failed.
func sudoRefused(e *transport.ExitError) bool {
	s := e.Stderr
	return strings.Contains(s, "sudo:") || strings.Contains(s, "is not allowed to execute") ||
		strings.Contains(s, "not in the sudoers file") || strings.Contains(s, "sudo: not found")
}

// applyDMIIDs reads the two lines of cat's output: the serial number, then
// the UUID. Placeholders firmware leaves stay empty.
func applyDMIIDs(out []byte, _ time.Time, rep *inventory.HostReport) error {
	serial, uuid, err := ParseDMIIDs(out)
	if err != nil {
		return err
	}
	if serial != "" {
		rep.System.Hardware.Serial = serial
	}
	if uuid != "" {
		rep.System.Hardware.UUID = uuid
	}
	return nil
}

// ParseDMIIDs reads the dmi_ids probe: product_serial's line, then
// product_uuid's.
func ParseDMIIDs(out []byte) (serial, uuid string, err error) {
	l := strings.Split(strings.TrimRight(strings.ReplaceAll(string(out), "\r", ""), "\n"), "\n")
	if len(l) != 2 {
		return "", "", fmt.Errorf("parse dmi ids: want 2 lines (serial, uuid), got %d", len(l))
	}
	clean := func(s string) string {
		s = strings.TrimSpace(strings.Map(func(r rune) rune {
			if r < ' ' || r == 0x7f {
				return -1
			}
			return r
		}, s))
		if dmiPlaceholders[strings.ToLower(s)] {
			return ""
		}
		return truncate(s, 256)
	}
	return clean(l[0]), strings.ToLower(clean(l[1])), nil
}
