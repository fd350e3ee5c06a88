package collect

import (
	"errors"
	"path"
	"sort"
	"strconv"
	"strings"
)

// /etc/shadow is never read: it needs root and holds password hashes.
const accountsCommand = `for f in /etc/passwd /etc/group; do echo "==> $f <=="; cat "$f"; done`

// accounts is the local accounts and who may become root, from /etc/passwd
// and /etc/group:
//
//	{"users":[{"name":"root","uid":0,"gid":0,"home":"/root","shell":"/bin/bash","login_shell":true},...],
//	 "sudo_members":["alice"],"admin_groups":{"sudo":["alice"],"wheel":[],...}}
//
// login_shell is false for nologin, false, sync, shutdown, halt and
// /dev/null. admin_groups lists, for each of the groups sudo, wheel and
// admin that exists, its members: those named in /etc/group and those whose
// primary group it is. sudo_members is their union, sorted. NIS "+"/"-"
// lines are skipped.
var accountsItem = itemProbe{
	name:    "accounts",
	command: accountsCommand,
	parse:   func(out []byte) (any, error) { return ParseAccounts(out) },
}

// Accounts is the value of the accounts probe.
type Accounts struct {
	Users       []Account           `json:"users"`
	SudoMembers []string            `json:"sudo_members"`
	AdminGroups map[string][]string `json:"admin_groups"`
}

// Account is one /etc/passwd entry.
type Account struct {
	Name       string `json:"name"`
	UID        int64  `json:"uid"`
	GID        int64  `json:"gid"`
	Home       string `json:"home"`
	Shell      string `json:"shell"`
	LoginShell bool   `json:"login_shell"`
}

var adminGroups = []string{"sudo", "wheel", "admin"}

// noLoginShells are shells that end a session at once.
var noLoginShells = map[string]bool{"nologin": true, "false": true, "sync": true, "shutdown": true, "halt": true, "null": true}

// ParseAccounts reads the /etc/passwd and /etc/group sections.
func ParseAccounts(out []byte) (Accounts, error) {
	a := Accounts{Users: []Account{}, SudoMembers: []string{}, AdminGroups: map[string][]string{}}
	var passwd, group string
	var sawPasswd bool
	for _, s := range parseSections(out) {
		switch s.name {
		case "/etc/passwd":
			passwd, sawPasswd = s.content, true
		case "/etc/group":
			group = s.content
		}
	}
	if !sawPasswd {
		return Accounts{}, errors.New("parse accounts: no /etc/passwd section in output")
	}
	for _, l := range lines(passwd, true) {
		f := strings.Split(l, ":")
		if len(f) != 7 || f[0] == "" || f[0][0] == '+' || f[0][0] == '-' {
			continue
		}
		uid, err1 := strconv.ParseInt(f[2], 10, 64)
		gid, err2 := strconv.ParseInt(f[3], 10, 64)
		if err1 != nil || err2 != nil || uid < 0 || gid < 0 {
			continue
		}
		shell := f[6]
		a.Users = append(a.Users, Account{Name: f[0], UID: uid, GID: gid, Home: f[5], Shell: shell,
			LoginShell: !noLoginShells[path.Base(shell)]})
	}
	if len(a.Users) == 0 {
		return Accounts{}, errors.New("parse accounts: no user in /etc/passwd section")
	}
	all := map[string]bool{}
	for _, l := range lines(group, true) {
		f := strings.Split(l, ":")
		if len(f) != 4 || !contains(adminGroups, f[0]) {
			continue
		}
		gid, err := strconv.ParseInt(f[2], 10, 64)
		members := map[string]bool{}
		for _, m := range strings.Split(f[3], ",") {
			if m = strings.TrimSpace(m); m != "" {
				members[m] = true
			}
		}
		for _, u := range a.Users {
			if err == nil && u.GID == gid {
				members[u.Name] = true
			}
		}
		list := []string{}
		for m := range members {
			list = append(list, m)
			all[m] = true
		}
		sort.Strings(list)
		if _, dup := a.AdminGroups[f[0]]; !dup {
			a.AdminGroups[f[0]] = list
		}
	}
	for m := range all {
		a.SudoMembers = append(a.SudoMembers, m)
	}
	sort.Strings(a.SudoMembers)
	return a, nil
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
