package collect

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

// SocketProcess is one line of `ss -tulpn`: a listening socket and the
// processes holding it.
type SocketProcess struct {
	Proto     string // tcp or udp
	Address   string // as the /proc tables decode it: 0.0.0.0, ::, 127.0.0.53
	Port      int
	Processes []string
}

// ParseListeningProcesses reads `ss -tulpn`. The header line (iproute2
// prints one unless -H) and sockets without a process column are skipped.
func ParseListeningProcesses(out []byte) ([]SocketProcess, error) {
	var res []SocketProcess
	sawHeader := false
	for _, l := range lines(string(out), false) {
		f := strings.Fields(l)
		if len(f) > 0 && f[0] == "Netid" {
			sawHeader = true
			continue
		}
		if len(f) < 6 {
			continue
		}
		proto := f[0]
		if proto != "tcp" && proto != "udp" {
			continue
		}
		addr, port, ok := splitSSAddress(f[4])
		if !ok {
			continue
		}
		sp := SocketProcess{Proto: proto, Address: addr, Port: port}
		if len(f) > 6 {
			sp.Processes = ssProcesses(strings.Join(f[6:], " "))
		}
		res = append(res, sp)
	}
	if res == nil && !sawHeader && strings.TrimSpace(string(out)) != "" {
		return nil, errors.New("parse ss: no header and no tcp/udp socket line in output")
	}
	return res, nil
}

// splitSSAddress splits ss's "Local Address:Port": 0.0.0.0:22, [::]:22,
// *:22, 127.0.0.53%lo:53, [fe80::1%eth0]:123.
func splitSSAddress(s string) (addr string, port int, ok bool) {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 {
		return "", 0, false
	}
	p, err := strconv.Atoi(s[i+1:])
	if err != nil || p < 0 || p > 65535 {
		return "", 0, false
	}
	addr = strings.TrimSuffix(strings.TrimPrefix(s[:i], "["), "]")
	if j := strings.IndexByte(addr, '%'); j >= 0 {
		addr = addr[:j]
	}
	if addr == "*" {
		return "*", p, true
	}
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return "", 0, false
	}
	return a.String(), p, true
}

// ssProcesses reads users:(("sshd",pid=1,fd=3),("sshd",pid=2,fd=3)) into
// the distinct process names, in order.
func ssProcesses(s string) []string {
	var names []string
	for {
		i := strings.Index(s, `("`)
		if i < 0 {
			return names
		}
		s = s[i+2:]
		j := strings.IndexByte(s, '"')
		if j < 0 {
			return names
		}
		if n := s[:j]; n != "" && !contains(names, n) {
			names = append(names, n)
		}
		s = s[j+1:]
	}
}

func applyListeningProcesses(out []byte, _ time.Time, rep *inventory.HostReport) error {
	sps, err := ParseListeningProcesses(out)
	if err != nil {
		return err
	}
	ls := rep.System.Network.Listening
	for i := range ls {
		base := strings.TrimSuffix(ls[i].Proto, "6")
		for _, sp := range sps {
			if sp.Proto != base || sp.Port != ls[i].Port || len(sp.Processes) == 0 {
				continue
			}
			// ss prints a dual-stack wildcard as "*" where /proc says "::".
			if sp.Address == ls[i].Address || sp.Address == "*" && (ls[i].Address == "::" || ls[i].Address == "0.0.0.0") {
				ls[i].Process = strings.Join(sp.Processes, ",")
				break
			}
		}
	}
	return nil
}

// ParseAccountStatus reads `passwd -S -a`: "name status date min max warn
// inactive" per account, where status is L or LK (locked), NP (no
// password) or P/PS (usable password). It returns name → locked.
func ParseAccountStatus(out []byte) (map[string]bool, error) {
	m := map[string]bool{}
	for _, l := range lines(string(out), false) {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		switch f[1] {
		case "L", "LK":
			m[f[0]] = true
		case "P", "PS", "NP":
			m[f[0]] = false
		}
	}
	if len(m) == 0 && strings.TrimSpace(string(out)) != "" {
		return nil, errors.New("parse passwd -S: no \"name status\" line in output")
	}
	return m, nil
}

func applyAccountStatus(out []byte, _ time.Time, rep *inventory.HostReport) error {
	m, err := ParseAccountStatus(out)
	if err != nil {
		return err
	}
	for i := range rep.System.Accounts {
		if locked, ok := m[rep.System.Accounts[i].Name]; ok {
			rep.System.Accounts[i].Locked = &locked
		}
	}
	return nil
}

// Sudoers is who the sudoers files give rules to. Users holds user names,
// "#uid" entries and "ALL"; Groups holds group names (from "%group") and
// "#gid" entries. Rules are not evaluated: anyone with any rule counts.
type Sudoers struct {
	Users  []string `json:"users"`
	Groups []string `json:"groups"`
}

// ParseSudoers reads `grep -rH . /etc/sudoers /etc/sudoers.d`: "path:line"
// for every non-empty line. Comments, Defaults and command, host and runas
// aliases are skipped; User_Alias definitions are expanded; "!" negations
// are dropped (they narrow a rule, never widen it).
func ParseSudoers(out []byte) (Sudoers, error) {
	s := Sudoers{Users: []string{}, Groups: []string{}}
	var stmts []string
	var cont strings.Builder
	sawLine := false
	for _, raw := range strings.Split(string(out), "\n") {
		raw = strings.TrimSuffix(raw, "\r")
		_, l, ok := strings.Cut(raw, ":")
		if !ok {
			continue
		}
		sawLine = true
		l = strings.TrimSpace(l)
		if cont.Len() == 0 && (l == "" || l[0] == '#') {
			continue // comment, or #include/#includedir (grep -r read those files)
		}
		if strings.HasSuffix(l, `\`) {
			cont.WriteString(strings.TrimSuffix(l, `\`) + " ")
			continue
		}
		cont.WriteString(l)
		stmts = append(stmts, cont.String())
		cont.Reset()
	}
	if !sawLine && strings.TrimSpace(string(out)) != "" {
		return Sudoers{}, errors.New("parse sudoers: no \"path:line\" line in output")
	}
	aliases := map[string][]string{}
	var specs []string
	for _, st := range stmts {
		word, rest, _ := strings.Cut(st, " ")
		word, _, _ = strings.Cut(word, "\t")
		switch {
		case word == "User_Alias":
			for _, def := range strings.Split(rest, ":") {
				name, list, ok := strings.Cut(def, "=")
				if ok {
					aliases[strings.TrimSpace(name)] = splitSudoList(list)
				}
			}
		case strings.HasPrefix(word, "Defaults"), word == "Cmnd_Alias", word == "Host_Alias", word == "Runas_Alias",
			word == "Cmd_Alias", strings.HasPrefix(word, "@include"):
		default:
			specs = append(specs, st)
		}
	}
	users, groups := map[string]bool{}, map[string]bool{}
	var add func(item string, depth int)
	add = func(item string, depth int) {
		switch {
		case item == "" || item[0] == '!' || depth > 8:
		case strings.HasPrefix(item, "%:") || strings.HasPrefix(item, "+"):
			// non-Unix and netgroups: nothing local to resolve
		case item[0] == '%':
			if g := strings.Trim(item[1:], `"`); g != "" {
				groups[g] = true
			}
		case aliases[item] != nil:
			for _, a := range aliases[item] {
				add(a, depth+1)
			}
		default:
			if u := strings.Trim(item, `"`); u != "" && u[0] != '!' {
				users[u] = true
			}
		}
	}
	for _, sp := range specs {
		lhs, _, ok := strings.Cut(sp, "=")
		if !ok {
			continue
		}
		// "alice, bob  ALL" → the user list is the first word once the
		// spaces after commas are gone; the host list follows.
		lhs = strings.Join(strings.Fields(strings.ReplaceAll(lhs, ",", ", ")), " ")
		lhs = strings.ReplaceAll(lhs, ", ", ",")
		f := strings.Fields(lhs)
		if len(f) < 2 {
			continue
		}
		for _, item := range strings.Split(f[0], ",") {
			add(strings.TrimSpace(item), 0)
		}
	}
	for u := range users {
		s.Users = append(s.Users, u)
	}
	for g := range groups {
		s.Groups = append(s.Groups, g)
	}
	sort.Strings(s.Users)
	sort.Strings(s.Groups)
	return s, nil
}

func splitSudoList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func applySudoers(out []byte, _ time.Time, rep *inventory.HostReport) error {
	s, err := ParseSudoers(out)
	if err != nil {
		return err
	}
	users, groups := map[string]bool{}, map[string]bool{}
	for _, u := range s.Users {
		users[u] = true
	}
	for _, g := range s.Groups {
		groups[g] = true
	}
	for i := range rep.System.Accounts {
		a := &rep.System.Accounts[i]
		a.SudoSource = "sudoers"
		a.Sudo = users["ALL"] || users[a.Name] || users[fmt.Sprintf("#%d", a.UID)] || groups[fmt.Sprintf("#%d", a.GID)]
		for _, g := range a.Groups {
			a.Sudo = a.Sudo || groups[g]
		}
	}
	return nil
}
