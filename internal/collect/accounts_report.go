package collect

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

// accountsProbe puts the local accounts in the report. It runs the same
// command as the accounts item (so one recording serves both); lock state
// and sudoers rights come later from the privileged probes, when allowed.
var accountsProbe = Probe{
	Name:    "accounts",
	Command: accountsCommand,
	apply: func(out []byte, _ time.Time, rep *inventory.HostReport) error {
		accts, err := ParseAccountList(out)
		if err != nil {
			return err
		}
		rep.System.Accounts = accts
		return nil
	},
}

// ParseAccountList reads the accounts probe's /etc/passwd and /etc/group
// sections into the report's account list, each account with its groups
// (primary first, then the others sorted).
func ParseAccountList(out []byte) ([]inventory.Account, error) {
	a, err := ParseAccounts(out)
	if err != nil {
		return nil, err
	}
	var group string
	for _, s := range parseSections(out) {
		if s.name == "/etc/group" {
			group = s.content
			break
		}
	}
	gidName := map[int64]string{}
	member := map[string][]string{}
	for _, l := range lines(group, true) {
		f := strings.Split(l, ":")
		if len(f) != 4 || f[0] == "" || f[0][0] == '+' || f[0][0] == '-' {
			continue
		}
		if gid, err := strconv.ParseInt(f[2], 10, 64); err == nil {
			if _, dup := gidName[gid]; !dup {
				gidName[gid] = f[0]
			}
		}
		for _, m := range strings.Split(f[3], ",") {
			if m = strings.TrimSpace(m); m != "" {
				member[m] = append(member[m], f[0])
			}
		}
	}
	accts := make([]inventory.Account, 0, len(a.Users))
	for _, u := range a.Users {
		var groups []string
		primary := gidName[u.GID]
		if primary != "" {
			groups = append(groups, primary)
		}
		others := append([]string(nil), member[u.Name]...)
		sort.Strings(others)
		for i, g := range others {
			if g != primary && (i == 0 || g != others[i-1]) {
				groups = append(groups, g)
			}
		}
		accts = append(accts, inventory.Account{Name: u.Name, UID: u.UID, GID: u.GID, Shell: u.Shell,
			LoginShell: u.LoginShell, Groups: groups})
	}
	return accts, nil
}

// finishAccounts gives accounts whose sudo rights no sudoers probe settled
// the answer membership of the usual admin groups gives.
func finishAccounts(rep *inventory.HostReport) {
	for i := range rep.System.Accounts {
		a := &rep.System.Accounts[i]
		if a.SudoSource != "" {
			continue
		}
		a.SudoSource = "groups"
		for _, g := range a.Groups {
			if contains(adminGroups, g) {
				a.Sudo = true
			}
		}
	}
}
