package collect

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport"
)

// privRecording reads a privileged probe's output recorded on the Debian 12
// build machine (testdata/privileged/README.md).
func privRecording(t testing.TB, name string) []byte {
	return readTestdata(t, "privileged/debian12/"+name)
}

func privCommand(t testing.TB, name string) string {
	for _, p := range PrivilegedProbes() {
		if p.Name == name {
			return p.Command
		}
	}
	t.Fatalf("no privileged probe %s", name)
	return ""
}

// Without sudo the privileged probes do not run at all, each says it needs
// privilege, and the scan succeeds.
func TestScanWithoutSudo(t *testing.T) {
	r := debianHost(t)
	var rep inventory.HostReport
	if err := Scan(context.Background(), r, &rep, scanNow); err != nil {
		t.Fatal(err)
	}
	for _, c := range r.ran {
		if strings.HasPrefix(c, "sudo") {
			t.Errorf("ran %q without sudo allowed", c)
		}
	}
	for _, p := range PrivilegedProbes() {
		var got *inventory.ProbeResult
		for i := range rep.Probes {
			if rep.Probes[i].Name == p.Name {
				got = &rep.Probes[i]
			}
		}
		if got == nil || !got.NeedsPrivilege || !strings.Contains(got.Error, "sudo is not enabled") {
			t.Errorf("%s: %+v", p.Name, got)
		}
	}
}

// With sudo, the recorded root outputs fill in the listening sockets'
// processes, account lock state and sudo rights; the machine has no DMI, so
// cat's real "No such file" is a plain probe error, not a privilege one.
func TestScanWithSudo(t *testing.T) {
	r := debianHost(t)
	r.out[Commands()["listening"]] = string(readTestdata(t, "system/debian12/listening"))
	r.out[privCommand(t, "listening_processes")] = string(privRecording(t, "listening_processes"))
	r.out[privCommand(t, "account_status")] = string(privRecording(t, "account_status"))
	r.out[privCommand(t, "sudoers")] = string(privRecording(t, "sudoers"))
	r.errs = map[string]error{privCommand(t, "dmi_ids"): &transport.ExitError{Code: 1, Stderr: string(privRecording(t, "dmi_ids.stderr"))}}
	var rep inventory.HostReport
	if err := Scan(context.Background(), r, &rep, scanNow, WithSudo(true)); err != nil {
		t.Fatal(err)
	}
	if got := probeNames(rep.Probes); !reflect.DeepEqual(got, allProbes) {
		t.Errorf("probes = %v", got)
	}
	for _, p := range rep.Probes {
		switch {
		case p.Name == "dmi_ids":
			if p.NeedsPrivilege || !strings.Contains(p.Error, "No such file") {
				t.Errorf("dmi_ids: %+v", p)
			}
		case p.Error != "":
			t.Errorf("%s: %s", p.Name, p.Error)
		}
	}
	procs := map[int]string{}
	for _, l := range rep.System.Network.Listening {
		if l.Proto == "tcp" {
			procs[l.Port] = l.Process
		}
	}
	// The recordings of /proc/net and ss were taken minutes apart on the
	// same machine: postgres listened in both.
	if procs[5432] != "postgres" {
		t.Errorf("tcp listeners' processes: %v", procs)
	}
	var root *inventory.Account
	for i := range rep.System.Accounts {
		if rep.System.Accounts[i].Name == "root" {
			root = &rep.System.Accounts[i]
		}
	}
	// Debian's sudoers names root and %sudo; root's password is locked.
	if root == nil || !root.Sudo || root.SudoSource != "sudoers" || root.Locked == nil || !*root.Locked {
		t.Errorf("root = %+v", root)
	}
}

// sudo's real refusal (recorded as nobody: "a password is required") makes
// every privileged probe NeedsPrivilege; the scan still succeeds.
func TestScanSudoRefused(t *testing.T) {
	r := debianHost(t)
	refusal := &transport.ExitError{Code: 1, Stderr: strings.TrimSpace(string(privRecording(t, "dmi_ids.nobody.stderr")))}
	r.errs = map[string]error{}
	for _, p := range PrivilegedProbes() {
		r.errs[p.Command] = refusal
	}
	var rep inventory.HostReport
	if err := Scan(context.Background(), r, &rep, scanNow, WithSudo(true)); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range rep.Probes {
		if p.NeedsPrivilege {
			n++
			if !strings.Contains(p.Error, "sudo: a password is required") {
				t.Errorf("%s: %q", p.Name, p.Error)
			}
		}
	}
	if n != len(PrivilegedProbes()) {
		t.Errorf("%d probes need privilege, want %d", n, len(PrivilegedProbes()))
	}
	if rep.System.Accounts[0].SudoSource != "groups" {
		t.Errorf("sudo rights without sudoers should come from groups: %+v", rep.System.Accounts[0])
	}
}

func TestPrivilegedProbesAreFixed(t *testing.T) {
	for _, p := range PrivilegedProbes() {
		if !strings.HasPrefix(p.Command, "sudo -n ") || strings.ContainsAny(p.Command, ";|&$`><*\n") {
			t.Errorf("%s: command %q is not one fixed sudo -n command", p.Name, p.Command)
		}
		if p.Command != "sudo -n "+p.RootCommand {
			t.Errorf("%s: command %q, root command %q", p.Name, p.Command, p.RootCommand)
		}
		args := strings.SplitN(p.RootCommand, " ", 2)[1]
		for _, s := range p.SudoersCommands {
			if !strings.HasPrefix(s, "/") || !strings.HasSuffix(s, " "+args) {
				t.Errorf("%s: sudoers spec %q does not pin the command's arguments", p.Name, s)
			}
		}
	}
}

const (
	privDoc      = "../../docs/privileges.md"
	privDocBegin = "<!-- BEGIN GENERATED by TestPrivilegesDoc: do not edit; VIGIL_UPDATE_DOCS=1 go test ./internal/collect -run TestPrivilegesDoc -->"
	privDocEnd   = "<!-- END GENERATED -->"
)

// privilegesDocBlock is the generated part of docs/privileges.md.
func privilegesDocBlock() string {
	var b strings.Builder
	b.WriteString(privDocBegin + "\n\n| probe | what it reads | exact command |\n|---|---|---|\n")
	for _, p := range PrivilegedProbes() {
		b.WriteString("| `" + p.Name + "` | " + p.Purpose + " | `" + p.Command + "` |\n")
	}
	b.WriteString("\n`/etc/sudoers.d/vigil` for a scan user named `vigil`:\n\n```\n" + SudoersSnippet("vigil") + "```\n\n" + privDocEnd)
	return b.String()
}

// The doc's table and sudoers snippet are generated from PrivilegedProbes:
// this fails when they drift (and rewrites them with VIGIL_UPDATE_DOCS=1).
func TestPrivilegesDoc(t *testing.T) {
	doc, err := os.ReadFile(privDoc)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i, j := strings.Index(s, privDocBegin), strings.Index(s, privDocEnd)
	if i < 0 || j < i {
		t.Fatalf("%s has no generated block", privDoc)
	}
	want := privilegesDocBlock()
	if got := s[i : j+len(privDocEnd)]; got != want {
		if os.Getenv("VIGIL_UPDATE_DOCS") == "1" {
			if err := os.WriteFile(privDoc, []byte(s[:i]+want+s[j+len(privDocEnd):]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("%s is out of date with PrivilegedProbes; run VIGIL_UPDATE_DOCS=1 go test ./internal/collect -run TestPrivilegesDoc\ngot:\n%s\nwant:\n%s", privDoc, got, want)
	}
}

func TestParseListeningProcesses(t *testing.T) {
	sps, err := ParseListeningProcesses(privRecording(t, "listening_processes"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sps) != 11 {
		t.Errorf("%d sockets, want 11: %+v", len(sps), sps)
	}
	want := SocketProcess{Proto: "tcp", Address: "127.0.0.1", Port: 5432, Processes: []string{"postgres"}}
	found := false
	for _, sp := range sps {
		if reflect.DeepEqual(sp, want) {
			found = true
		}
		if sp.Port == 2024 && len(sp.Processes) != 0 {
			t.Errorf("port 2024 has no process column in the recording: %+v", sp)
		}
	}
	if !found {
		t.Errorf("no %+v in %+v", want, sps)
	}
	// Constructed from ss's documented forms: dual-stack wildcard, IPv6 in
	// brackets with a zone, an interface-bound address, several processes.
	out := "Netid State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n" +
		"tcp   LISTEN 0      128                *:22              *:*    users:((\"sshd\",pid=700,fd=3))\n" +
		"udp   UNCONN 0      0      [fe80::1%eth0]:123         [::]:*    users:((\"chronyd\",pid=5,fd=7))\n" +
		"udp   UNCONN 0      0      127.0.0.53%lo:53      0.0.0.0:*    users:((\"systemd-resolve\",pid=9,fd=13))\n" +
		"tcp   LISTEN 0      511          [::]:80           [::]:*    users:((\"nginx\",pid=2,fd=6),(\"nginx\",pid=1,fd=6),(\"nginx-helper\",pid=3,fd=6))\n"
	sps, err = ParseListeningProcesses([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	wantAll := []SocketProcess{
		{"tcp", "*", 22, []string{"sshd"}},
		{"udp", "fe80::1", 123, []string{"chronyd"}},
		{"udp", "127.0.0.53", 53, []string{"systemd-resolve"}},
		{"tcp", "::", 80, []string{"nginx", "nginx-helper"}},
	}
	if !reflect.DeepEqual(sps, wantAll) {
		t.Errorf("got %+v", sps)
	}
	if _, err := ParseListeningProcesses([]byte("garbage\n")); err == nil {
		t.Error("garbage accepted")
	}
}

func TestParseAccountStatus(t *testing.T) {
	m, err := ParseAccountStatus(privRecording(t, "account_status"))
	if err != nil {
		t.Fatal(err)
	}
	// Every account of that machine, all locked (Debian's system accounts
	// and a root without a password).
	if len(m) != 31 || !m["root"] || !m["nobody"] {
		t.Errorf("got %d accounts: %v", len(m), m)
	}
	// RHEL's passwd prints a sentence per user (constructed from its format).
	m, err = ParseAccountStatus([]byte("alice PS 2024-01-02 0 99999 7 -1 (Password set, SHA512 crypt.)\nbob LK 2024-01-02 0 99999 7 -1 (Password locked.)\ncarol NP 2024-01-02 0 99999 7 -1\n"))
	if err != nil || m["alice"] || !m["bob"] || m["carol"] || len(m) != 3 {
		t.Errorf("got %v, %v", m, err)
	}
	if _, err := ParseAccountStatus([]byte("passwd: bad option -a\n")); err == nil {
		t.Error("an error message was read as status")
	}
}

func TestParseSudoers(t *testing.T) {
	s, err := ParseSudoers(privRecording(t, "sudoers"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, Sudoers{Users: []string{"root"}, Groups: []string{"sudo"}}) {
		t.Errorf("Debian 12 default: %+v", s)
	}
	// Constructed: aliases, lists with spaces, continuation lines,
	// negation, uid/gid forms, RHEL's wheel line, Defaults and Cmnd_Alias.
	out := "/etc/sudoers:Defaults    !visiblepw\n" +
		"/etc/sudoers:User_Alias ADMINS = alice, bob : OPS = %ops\n" +
		"/etc/sudoers:Cmnd_Alias SHUTDOWN = /sbin/shutdown\n" +
		"/etc/sudoers:%wheel\tALL=(ALL)\tALL\n" +
		"/etc/sudoers:ADMINS, carol  ALL = (root) NOPASSWD: ALL\n" +
		"/etc/sudoers.d/ops:OPS,\\\n" +
		"/etc/sudoers.d/ops:    #1001, !dave ALL=SHUTDOWN\n" +
		"/etc/sudoers.d/ops:%#2000 ALL=ALL\n" +
		"/etc/sudoers.d/README:# comment with alice ALL=ALL\n"
	s, err = ParseSudoers([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	want := Sudoers{Users: []string{"#1001", "alice", "bob", "carol"}, Groups: []string{"#2000", "ops", "wheel"}}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("got %+v, want %+v", s, want)
	}
}

func TestParseDMIIDs(t *testing.T) {
	// The values of jc's Ubuntu 18.04 dmidecode sample (a VMware guest),
	// as the two sysfs files would print them.
	serial, uuid, err := ParseDMIIDs([]byte("VMware-56 4d 0d 1a cc cf 45 fa-43 81 ac 1f 3b 99 45 17\n1A0D4D56-CFCC-FA45-4381-AC1F3B994517\n"))
	if err != nil || serial != "VMware-56 4d 0d 1a cc cf 45 fa-43 81 ac 1f 3b 99 45 17" || uuid != "1a0d4d56-cfcc-fa45-4381-ac1f3b994517" {
		t.Errorf("got %q %q %v", serial, uuid, err)
	}
	serial, uuid, err = ParseDMIIDs([]byte("To Be Filled By O.E.M.\n03000200-0400-0500-0006-000700080009\n"))
	if err != nil || serial != "" || uuid != "" {
		t.Errorf("placeholders kept: %q %q %v", serial, uuid, err)
	}
	if _, _, err := ParseDMIIDs([]byte("")); err == nil {
		t.Error("empty output accepted")
	}
}
