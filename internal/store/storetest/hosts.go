package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/store"
)

func testCredentials(t *testing.T, s store.Store) {
	ctx := t.Context()
	w := newWorkspace(t, s)
	c := &domain.Credential{WorkspaceID: w.ID, Name: "root", Username: "root",
		SealedPassword: []byte("sealed-pw"), CreatedAt: base}
	must(t, s.CreateCredential(ctx, c))
	if !c.HasPassword || c.HasPrivateKey {
		t.Errorf("after create: has password %v, key %v", c.HasPassword, c.HasPrivateKey)
	}
	got, err := s.GetCredential(ctx, w.ID, c.ID)
	must(t, err)
	if got.Name != "root" || got.Username != "root" || got.IsDefault ||
		!bytes.Equal(got.SealedPassword, []byte("sealed-pw")) || len(got.SealedPrivateKey) != 0 {
		t.Errorf("got %+v", got)
	}
	if !got.HasPassword || got.HasPrivateKey {
		t.Errorf("has password %v, key %v; want true, false", got.HasPassword, got.HasPrivateKey)
	}
	wantTime(t, "created_at", got.CreatedAt, base)
	wantTime(t, "updated_at", got.UpdatedAt, base)

	// Nil sealed fields keep what is stored; an empty one clears it.
	upd := &domain.Credential{ID: c.ID, WorkspaceID: w.ID, Name: "deploy", Username: "deploy",
		SealedPrivateKey: []byte("sealed-key"), SealedPassphrase: []byte("sealed-pp")}
	must(t, s.UpdateCredential(ctx, upd))
	got, err = s.GetCredential(ctx, w.ID, c.ID)
	must(t, err)
	if got.Name != "deploy" || !bytes.Equal(got.SealedPassword, []byte("sealed-pw")) ||
		!bytes.Equal(got.SealedPrivateKey, []byte("sealed-key")) || !bytes.Equal(got.SealedPassphrase, []byte("sealed-pp")) {
		t.Errorf("after update: %+v", got)
	}
	if !got.HasPassword || !got.HasPrivateKey || !upd.HasPrivateKey {
		t.Errorf("after update: has password %v, key %v", got.HasPassword, got.HasPrivateKey)
	}
	if !got.UpdatedAt.After(base) {
		t.Errorf("updated_at = %v, not moved on", got.UpdatedAt)
	}
	upd = &domain.Credential{ID: c.ID, WorkspaceID: w.ID, Name: "deploy", Username: "deploy", SealedPassword: []byte{}}
	must(t, s.UpdateCredential(ctx, upd))
	if got, _ = s.GetCredential(ctx, w.ID, c.ID); got.HasPassword || !got.HasPrivateKey {
		t.Errorf("after clearing the password: has password %v, key %v", got.HasPassword, got.HasPrivateKey)
	}

	c2 := &domain.Credential{WorkspaceID: w.ID, Name: "admin", Username: "admin"}
	must(t, s.CreateCredential(ctx, c2))
	list, err := s.ListCredentials(ctx, w.ID)
	must(t, err)
	if len(list) != 2 || list[0].ID != c2.ID || list[1].ID != c.ID {
		t.Errorf("list = %+v, want admin, deploy", list)
	}

	// Deleting a credential leaves its hosts without one.
	h := newHost(t, s, w.ID, "web1")
	h.CredentialID = &c.ID
	must(t, s.UpdateHost(ctx, h))
	must(t, s.DeleteCredential(ctx, w.ID, c.ID))
	wantCode(t, s.DeleteCredential(ctx, w.ID, c.ID), domain.ENOTFOUND)
	_, err = s.GetCredential(ctx, w.ID, c.ID)
	wantCode(t, err, domain.ENOTFOUND)
	h, err = s.GetHost(ctx, w.ID, h.ID)
	must(t, err)
	if h.CredentialID != nil {
		t.Errorf("host credential = %d after delete, want none", *h.CredentialID)
	}
	wantCode(t, s.UpdateCredential(ctx, &domain.Credential{ID: c.ID, WorkspaceID: w.ID}), domain.ENOTFOUND)
}

func testDefaultCredential(t *testing.T, s store.Store) {
	ctx := t.Context()
	w, other := newWorkspace(t, s), newWorkspace(t, s)
	_, err := s.GetDefaultCredential(ctx, w.ID)
	wantCode(t, err, domain.ENOTFOUND)

	c1 := &domain.Credential{WorkspaceID: w.ID, Name: "one", Username: "u", IsDefault: true}
	must(t, s.CreateCredential(ctx, c1))
	// Another workspace has its own default.
	must(t, s.CreateCredential(ctx, &domain.Credential{WorkspaceID: other.ID, Name: "o", Username: "u", IsDefault: true}))
	wantDefault := func(id int64) {
		t.Helper()
		got, err := s.GetDefaultCredential(ctx, w.ID)
		must(t, err)
		if got.ID != id {
			t.Errorf("default = %d, want %d", got.ID, id)
		}
		list, err := s.ListCredentials(ctx, w.ID)
		must(t, err)
		n := 0
		for _, c := range list {
			if c.IsDefault {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d defaults, want exactly one", n)
		}
	}
	wantDefault(c1.ID)

	// A new default replaces the old one, on create and on update.
	c2 := &domain.Credential{WorkspaceID: w.ID, Name: "two", Username: "u", IsDefault: true}
	must(t, s.CreateCredential(ctx, c2))
	wantDefault(c2.ID)
	c1.IsDefault = true
	must(t, s.UpdateCredential(ctx, c1))
	wantDefault(c1.ID)
	if got, _ := s.GetDefaultCredential(ctx, other.ID); got == nil || got.WorkspaceID != other.ID {
		t.Errorf("other workspace's default lost: %+v", got)
	}

	c1.IsDefault = false
	must(t, s.UpdateCredential(ctx, c1))
	_, err = s.GetDefaultCredential(ctx, w.ID)
	wantCode(t, err, domain.ENOTFOUND)
}

func testHosts(t *testing.T, s store.Store) {
	ctx := t.Context()
	w := newWorkspace(t, s)
	a := newAgent(t, s, w.ID)
	c := &domain.Credential{WorkspaceID: w.ID, Name: "c", Username: "root"}
	must(t, s.CreateCredential(ctx, c))

	h := &domain.Host{WorkspaceID: w.ID, AgentID: &a.ID, CredentialID: &c.ID, Name: "web1", Address: "10.0.0.1",
		Port: 2222, Transport: inventory.TransportSSH, Demo: true, HostKey: "ssh-ed25519 AAAA", CreatedAt: base,
		PackageCount: 99} // scan state is not the caller's to set
	must(t, s.CreateHost(ctx, h))
	if h.ID == 0 || h.PackageCount != 0 {
		t.Fatalf("after create: %+v", h)
	}
	wantCode(t, s.CreateHost(ctx, &domain.Host{WorkspaceID: w.ID, Name: "web1", Transport: "ssh"}), domain.ECONFLICT)

	got, err := s.GetHost(ctx, w.ID, h.ID)
	must(t, err)
	if got.Name != "web1" || got.Address != "10.0.0.1" || got.Port != 2222 || got.Transport != "ssh" || !got.Demo ||
		got.HostKey != "ssh-ed25519 AAAA" || got.AgentID == nil || *got.AgentID != a.ID ||
		got.CredentialID == nil || *got.CredentialID != c.ID {
		t.Errorf("got %+v", got)
	}
	if got.LastScanAt != nil || got.LastSuccessAt != nil || got.PackageCount != 0 || got.OSName != "" {
		t.Errorf("new host has scan state: %+v", got)
	}
	wantTime(t, "created_at", got.CreatedAt, base)

	if got.Options.Sudo || got.Options.Jump != nil || got.Options.WinRM != nil {
		t.Errorf("new host has options: %+v", got.Options)
	}

	got.Name, got.Address, got.Port, got.HostKey = "web1.prod", "10.0.0.2", 22, ""
	got.AgentID, got.CredentialID = nil, nil
	got.Options = domain.HostOptions{Sudo: true, LegacyAlgorithms: true,
		Jump: &domain.JumpHost{Address: "bastion", Port: 2200, HostKey: "ssh-ed25519 BBBB", CredentialID: &c.ID}}
	must(t, s.UpdateHost(ctx, got))
	got, err = s.GetHost(ctx, w.ID, h.ID)
	must(t, err)
	if o := got.Options; !o.Sudo || !o.LegacyAlgorithms || o.Jump == nil || o.Jump.Address != "bastion" ||
		o.Jump.Port != 2200 || o.Jump.HostKey != "ssh-ed25519 BBBB" || o.Jump.CredentialID == nil || *o.Jump.CredentialID != c.ID {
		t.Errorf("options after update: %+v", o)
	}
	if got.Name != "web1.prod" || got.Address != "10.0.0.2" || got.Port != 22 || got.HostKey != "" ||
		got.AgentID != nil || got.CredentialID != nil {
		t.Errorf("after update: %+v", got)
	}
	if !got.UpdatedAt.After(base) {
		t.Errorf("updated_at = %v, not moved on", got.UpdatedAt)
	}
	other := newHost(t, s, w.ID, "web2")
	other.Name = "web1.prod"
	wantCode(t, s.UpdateHost(ctx, other), domain.ECONFLICT)

	must(t, s.DeleteHost(ctx, w.ID, h.ID))
	_, err = s.GetHost(ctx, w.ID, h.ID)
	wantCode(t, err, domain.ENOTFOUND)
	wantCode(t, s.DeleteHost(ctx, w.ID, h.ID), domain.ENOTFOUND)
	wantCode(t, s.UpdateHost(ctx, h), domain.ENOTFOUND)
}

// testHostReferences: a host can only name an agent or credential of its
// own workspace.
func testHostReferences(t *testing.T, s store.Store) {
	ctx := t.Context()
	w, other := newWorkspace(t, s), newWorkspace(t, s)
	foreignAgent := newAgent(t, s, other.ID)
	foreignCred := &domain.Credential{WorkspaceID: other.ID, Name: "c", Username: "u"}
	must(t, s.CreateCredential(ctx, foreignCred))

	err := s.CreateHost(ctx, &domain.Host{WorkspaceID: w.ID, Name: "a", Transport: "ssh", AgentID: &foreignAgent.ID})
	wantCode(t, err, domain.EINVALID)
	err = s.CreateHost(ctx, &domain.Host{WorkspaceID: w.ID, Name: "b", Transport: "ssh", CredentialID: &foreignCred.ID})
	wantCode(t, err, domain.EINVALID)
	h := newHost(t, s, w.ID, "web1")
	h.AgentID = &foreignAgent.ID
	wantCode(t, s.UpdateHost(ctx, h), domain.EINVALID)
	missing := int64(999999)
	h.AgentID = &missing
	wantCode(t, s.UpdateHost(ctx, h), domain.EINVALID)
	hosts, err := s.ListHosts(ctx, w.ID, store.HostFilter{})
	must(t, err)
	if len(hosts) != 1 || hosts[0].AgentID != nil {
		t.Errorf("hosts = %+v, want web1 without agent", hosts)
	}
	err = s.CreateHost(ctx, &domain.Host{WorkspaceID: 999999, Name: "x", Transport: "ssh"})
	wantCode(t, err, domain.ENOTFOUND)
}

func testListHosts(t *testing.T, s store.Store) {
	ctx := t.Context()
	w := newWorkspace(t, s)
	for _, name := range []string{"db-1", "Web-2", "web-1", "cache_1"} {
		newHost(t, s, w.ID, name)
	}
	names := func(f store.HostFilter) []string {
		t.Helper()
		hosts, err := s.ListHosts(ctx, w.ID, f)
		must(t, err)
		out := []string{}
		for _, h := range hosts {
			out = append(out, h.Name)
		}
		return out
	}
	tests := []struct {
		f    store.HostFilter
		want []string
	}{
		{store.HostFilter{}, []string{"cache_1", "db-1", "web-1", "Web-2"}},
		{store.HostFilter{Query: "WEB"}, []string{"web-1", "Web-2"}},
		{store.HostFilter{Query: "example"}, []string{"cache_1", "db-1", "web-1", "Web-2"}}, // address
		{store.HostFilter{Query: "_"}, []string{"cache_1"}},                                 // not a wildcard
		{store.HostFilter{Query: "%"}, []string{}},
		{store.HostFilter{Query: "-1"}, []string{"db-1", "web-1"}},
		{store.HostFilter{Limit: 2}, []string{"cache_1", "db-1"}},
	}
	for _, tc := range tests {
		got := names(tc.f)
		if len(got) != len(tc.want) {
			t.Errorf("%+v: got %q, want %q", tc.f, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%+v: got %q, want %q", tc.f, got, tc.want)
				break
			}
		}
	}
}

func testClaimUnassignedHosts(t *testing.T, s store.Store) {
	ctx := t.Context()
	w := newWorkspace(t, s)
	a1, a2 := newAgent(t, s, w.ID), newAgent(t, s, w.ID)
	h1, h2 := newHost(t, s, w.ID, "h1"), newHost(t, s, w.ID, "h2")
	h3 := newHost(t, s, w.ID, "h3")
	h3.AgentID = &a2.ID
	must(t, s.UpdateHost(ctx, h3))

	n, err := s.ClaimUnassignedHosts(ctx, w.ID, a1.ID)
	must(t, err)
	if n != 2 {
		t.Errorf("claimed %d, want 2", n)
	}
	hosts, err := s.ListAgentHosts(ctx, w.ID, a1.ID)
	must(t, err)
	if len(hosts) != 2 || hosts[0].ID != h1.ID || hosts[1].ID != h2.ID {
		t.Errorf("agent 1 hosts = %+v", hosts)
	}
	if n, _ = s.ClaimUnassignedHosts(ctx, w.ID, a2.ID); n != 0 {
		t.Errorf("second claim took %d", n)
	}
	_, err = s.ClaimUnassignedHosts(ctx, w.ID, 999999)
	wantCode(t, err, domain.ENOTFOUND)
}

func testDeleteHostCascades(t *testing.T, s store.Store) {
	ctx := t.Context()
	w := newWorkspace(t, s)
	a := newAgent(t, s, w.ID)
	h, keep := newHost(t, s, w.ID, "gone"), newHost(t, s, w.ID, "kept")
	ingest(t, s, w.ID, a.ID, Report(h.ID, "r1", base, Packages(20)))
	ingest(t, s, w.ID, a.ID, Report(keep.ID, "r2", base, Packages(5)))
	must(t, s.DeleteHost(ctx, w.ID, h.ID))

	_, err := s.ListSnapshots(ctx, w.ID, h.ID, 0)
	wantCode(t, err, domain.ENOTFOUND)
	for _, table := range []string{"snapshots", "host_packages"} {
		if n, ok := countRows(t, s, table, h.ID); ok && n != 0 {
			t.Errorf("%d %s rows left for the deleted host", n, table)
		}
		if n, ok := countRows(t, s, table, keep.ID); ok && n == 0 {
			t.Errorf("%s of the other host deleted too", table)
		}
	}
	// The report ID is free again: its snapshot went with the host.
	h2 := newHost(t, s, w.ID, "gone")
	ingest(t, s, w.ID, a.ID, Report(h2.ID, "r1", at(time.Hour), Packages(1)))
}
