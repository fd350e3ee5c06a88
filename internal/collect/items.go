package collect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport"
)

// itemProbe is one named probe of the compliance items catalogue
// (docs/checks-items.md). Like Probe, its command is fixed at compile time:
// nothing in an ItemRequest ever becomes part of a probe's command.
type itemProbe struct {
	name    string
	command string
	// parse turns the command's output into the item's value. It returns a
	// *privilegeError when the output shows the scan user could not read
	// what the value depends on.
	parse func(out []byte) (any, error)
}

// itemProbeList is the catalogue, in the order docs/checks-items.md lists it.
// The Windows items (windows.go) come last.
var itemProbeList = append([]itemProbe{
	sshdItem,
	sysctlItem,
	mountsItem,
	servicesItem,
	accountsItem,
	loginDefsItem,
	worldWritableItem,
	rebootRequiredItem,
	timeSyncItem,
	firewallItem,
	auditdItem,
	autoUpdatesItem,
	kernelModulesItem,
}, windowsItemProbes...)

var itemProbes = func() map[string]itemProbe {
	m := make(map[string]itemProbe, len(itemProbeList))
	for _, p := range itemProbeList {
		m[p.name] = p
	}
	return m
}()

// ItemCommands returns the command of every item probe, keyed by probe name.
// file and file_meta items build theirs from a validated path (statCommand,
// fileCommand).
func ItemCommands() map[string]string {
	m := make(map[string]string, len(itemProbeList))
	for _, p := range itemProbeList {
		m[p.name] = p.command
	}
	return m
}

// Refusals and failures recorded in ItemResult.Error. The compliance
// evaluator shows them as they are.
const (
	ErrNotInCatalogue = "not in the agent's catalogue"
	ErrNotAllowlisted = "file not on the agent's allowlist (add it to allowed_files in the agent's config.yaml to permit it)"
	ErrSessionLost    = "not collected: session lost"
)

// maxFileItem bounds the content of a file item.
const maxFileItem = 1 << 20

// privilegeError says the scan user lacked the right to read something; the
// item's result gets NeedsPrivilege.
type privilegeError struct{ msg string }

func (e *privilegeError) Error() string { return e.msg }

// CollectItems collects the requested catalogue items, returning one result
// per request, in order. Requests for anything outside the catalogue (an
// unknown probe, a file not on the allowlist, a path that is not absolute and
// clean) are refused in their result without running a command.
//
// allowFiles extends the built-in list of readable files; it comes from the
// agent's own config, never from the server.
//
// Every command runs in one batch (one exec round trip). A command that
// fails on the host is recorded in its item's result. Any other Runner error
// means the session is gone: the items not collected get its error.
func CollectItems(ctx context.Context, r transport.Runner, reqs []inventory.ItemRequest, allowFiles []string) []inventory.ItemResult {
	allowed := make(map[string]bool, len(builtinAllowedFiles)+len(allowFiles))
	for _, f := range builtinAllowedFiles {
		allowed[f] = true
	}
	for _, f := range allowFiles {
		allowed[f] = true
	}
	// A config may ask for one item twice (two checks on one file): one
	// command serves both. Every command goes into one batch, so all items
	// cost one exec round trip.
	type pending struct {
		res   inventory.ItemResult
		parse func([]byte) (any, error)
		cmd   int // index in cmds, or -1 when refused without a command
	}
	byKey := map[string]int{}
	var uniq []pending
	var cmds []batchCmd
	order := make([]int, len(reqs))
	for i, req := range reqs {
		if j, ok := byKey[req.Key()]; ok {
			order[i] = j
			continue
		}
		res, command, parse := prepareItem(req, allowed)
		p := pending{res: res, parse: parse, cmd: -1}
		if command != "" {
			p.cmd = len(cmds)
			cmds = append(cmds, batchCmd{name: fmt.Sprintf("item%d", len(cmds)), command: command})
		}
		byKey[req.Key()] = len(uniq)
		order[i] = len(uniq)
		uniq = append(uniq, p)
	}
	out, fatal := runBatch(ctx, r, cmds, DefaultProbeTimeout)
	told := false
	for i := range uniq {
		p := &uniq[i]
		if p.cmd < 0 {
			continue
		}
		cr := out[p.cmd]
		if cr.err == errNotReached && fatal != nil {
			// The first item the session took down says why; the
			// rest say only that they were lost with it.
			p.res.Error = ErrSessionLost
			if !told {
				p.res.Error = truncate("not collected: "+fatal.Error(), maxProbeError)
				told = true
			}
			continue
		}
		finishItem(&p.res, cr, p.parse)
	}
	results := make([]inventory.ItemResult, len(reqs))
	for i, j := range order {
		results[i] = uniq[j].res
	}
	return results
}

// prepareItem checks a request against the catalogue and the allowlist and
// returns its command and parser, or a result that refuses it (command "").
func prepareItem(req inventory.ItemRequest, allowed map[string]bool) (res inventory.ItemResult, command string, parse func([]byte) (any, error)) {
	res = inventory.ItemResult{Kind: req.Kind, Name: req.Name}
	switch req.Kind {
	case inventory.ItemProbe:
		p, ok := itemProbes[req.Name]
		if !ok {
			res.Error = ErrNotInCatalogue
			return res, "", nil
		}
		return res, p.command, p.parse
	case inventory.ItemFileMeta:
		if err := CheckItemPath(req.Name); err != nil {
			res.Error = err.Error()
			return res, "", nil
		}
		return res, statCommand(req.Name), func(out []byte) (any, error) { return ParseFileMeta(out) }
	case inventory.ItemFile:
		if err := CheckItemPath(req.Name); err != nil {
			res.Error = err.Error()
			return res, "", nil
		}
		if !allowed[req.Name] {
			res.Error = ErrNotAllowlisted
			return res, "", nil
		}
		return res, fileCommand(req.Name), parseFileContent
	}
	res.Error = fmt.Sprintf("unknown item kind %q: %s", req.Kind, ErrNotInCatalogue)
	return res, "", nil
}

// finishItem fills res from its command's result.
func finishItem(res *inventory.ItemResult, cr cmdResult, parse func([]byte) (any, error)) {
	res.DurationMS = cr.duration.Milliseconds()
	var exit *transport.ExitError
	switch {
	case cr.err == nil:
	case errors.As(cr.err, &exit):
		res.Error = truncate(cr.err.Error(), maxProbeError)
		res.NeedsPrivilege = noAccess(exit)
		return
	default:
		res.Error = truncate(cr.err.Error(), maxProbeError)
		return
	}
	v, err := parse(cr.out)
	if err != nil {
		var pe *privilegeError
		res.NeedsPrivilege = errors.As(err, &pe)
		res.Error = truncate(err.Error(), maxProbeError)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		res.Error = "encode value: " + err.Error()
		return
	}
	res.Value = b
}

// noAccess reports whether a failed command failed for lack of rights: the
// messages read, open and stat print for EACCES and EPERM, or the exit codes
// for "not permitted" (77, EX_NOPERM) and "cannot execute" (126).
func noAccess(e *transport.ExitError) bool {
	return strings.Contains(e.Stderr, "Permission denied") || strings.Contains(e.Stderr, "Operation not permitted") ||
		e.Code == 77 || e.Code == 126 ||
		// Windows: the message is localised, PowerShell's error category is not.
		strings.Contains(e.Stderr, "PermissionDenied") || strings.Contains(e.Stderr, "Access is denied")
}

// CheckItemPath accepts the paths file and file_meta items may name: absolute,
// clean (no "." or ".." elements, no "//", no trailing "/"), at most 4096
// bytes, and made only of letters, digits, space and . _ / + - @. The
// character set is what makes quoting the path for sh safe (shellQuote): it
// holds no quote, backslash, $, `, ;, newline or glob character.
func CheckItemPath(p string) error {
	bad := func(why string) error {
		return fmt.Errorf("path %q refused: %s", truncate(p, 200), why)
	}
	switch {
	case p == "" || p[0] != '/':
		return bad("not an absolute path")
	case len(p) > 4096:
		return bad("longer than 4096 bytes")
	case filepath.Clean(p) != p || strings.Contains(p, ".."):
		return bad("not a clean path (no \"..\", \".\", \"//\" or trailing \"/\")")
	}
	for _, c := range p {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.ContainsRune("._/+-@ ", c):
		default:
			return bad(fmt.Sprintf("character %q is not accepted (only letters, digits, space and . _ / + - @)", c))
		}
	}
	return nil
}

// shellQuote single-quotes a path for sh. It is only called on paths that
// passed CheckItemPath, which admits no single quote (nor any other character
// sh would treat specially inside or around single quotes), so the result is
// always exactly one literal word.
func shellQuote(p string) string { return "'" + p + "'" }

// builtinAllowedFiles are the non-secret configuration files a file item may
// read without any local configuration. Nothing here holds password hashes
// or keys: no /etc/shadow, /etc/gshadow, sudoers, grub.cfg (it can hold a
// boot password hash) or private keys.
var builtinAllowedFiles = []string{
	"/etc/ssh/sshd_config",
	"/etc/login.defs",
	"/etc/sysctl.conf",
	"/etc/fstab",
	"/etc/security/pwquality.conf",
	"/etc/security/faillock.conf",
	"/etc/security/limits.conf",
	"/etc/default/grub",
	"/etc/default/useradd",
	"/etc/chrony.conf",
	"/etc/chrony/chrony.conf",
	"/etc/ntp.conf",
	"/etc/systemd/timesyncd.conf",
	"/etc/systemd/journald.conf",
	"/etc/apt/apt.conf.d/20auto-upgrades",
	"/etc/apt/apt.conf.d/50unattended-upgrades",
	"/etc/dnf/automatic.conf",
	"/etc/dnf/dnf.conf",
	"/etc/yum.conf",
	"/etc/audit/auditd.conf",
	"/etc/issue",
	"/etc/issue.net",
	"/etc/motd",
	"/etc/hosts.allow",
	"/etc/hosts.deny",
	"/etc/pam.d/common-auth",
	"/etc/pam.d/common-password",
	"/etc/pam.d/system-auth",
	"/etc/pam.d/password-auth",
	"/etc/pam.d/su",
	"/etc/pam.d/sshd",
	"/etc/rsyslog.conf",
	"/etc/selinux/config",
	"/etc/crypto-policies/config",
	"/etc/ufw/ufw.conf",
	"/etc/default/ufw",
	"/etc/firewalld/firewalld.conf",
	"/etc/nsswitch.conf",
	"/etc/resolv.conf",
	"/etc/shells",
	"/etc/securetty",
	"/etc/logrotate.conf",
	"/etc/cron.allow",
	"/etc/cron.deny",
	"/etc/at.allow",
	"/etc/at.deny",
}

// BuiltinAllowedFiles returns the files a file item may read on any agent,
// sorted.
func BuiltinAllowedFiles() []string {
	l := append([]string(nil), builtinAllowedFiles...)
	sort.Strings(l)
	return l
}
