package service_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/secrets"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/sshkey"
	"github.com/vigil-project/vigil/internal/store/sqlite"
)

// The jump host key a report carries is pinned on first use, never over a
// pinned one and never when it is not a key, and the agent's next config
// carries it at once (the config cache is dropped).
func TestIngestPinsJumpHostKey(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key := make([]byte, secrets.KeySize)
	rand.Read(key)
	sealer, _ := secrets.NewSealer(key)
	svc := service.New(st, sealer, slog.New(slog.NewTextHandler(io.Discard, nil)))
	svc.NoBackground = true
	res, err := svc.Bootstrap(ctx, "admin-password-1")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := st.GetUserByLogin(ctx, service.AdminLogin)
	admin := service.Actor{UserID: u.ID, Login: u.Login, WorkspaceID: res.Workspace.ID, Role: domain.RoleAdmin}
	ag, _, err := svc.CreateAgentKey(ctx, res.Workspace.ID, "a1")
	if err != nil {
		t.Fatal(err)
	}
	name, addr, user, pw := "inner", "10.1.0.5", "scan", "pw"
	h, err := svc.CreateHost(ctx, admin, domain.HostInput{Name: &name, Address: &addr, Username: &user, Password: &pw, AgentID: &ag.ID,
		Options: &domain.HostOptions{Jump: &domain.JumpHost{Address: "10.0.0.2"}}})
	if err != nil {
		t.Fatal(err)
	}
	newKey := func() string {
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		k, _ := ssh.NewPublicKey(pub)
		return sshkey.Marshal(k)
	}
	jumpKey := func() string {
		got, err := svc.GetHost(ctx, admin, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Options.Jump.HostKey
	}
	configKey := func() string {
		cfg, _, err := svc.AgentConfig(ctx, ag, "")
		if err != nil {
			t.Fatal(err)
		}
		return cfg.Hosts[0].Jump.HostKey
	}
	if configKey() != "" { // builds and caches the agent's config
		t.Fatal("a key is pinned before any scan")
	}
	seq := 0
	push := func(jk string) {
		seq++
		now := time.Now().UTC()
		r := inventory.HostReport{SchemaVersion: inventory.SchemaVersion, ReportID: "r" + string(rune('a'+seq)), HostID: h.ID,
			StartedAt: now, FinishedAt: now, Status: inventory.StatusError, Error: "x", ErrorKind: inventory.ErrKindProbe, JumpHostKey: jk,
			Packages: []inventory.Package{}}
		if _, err := svc.IngestBatch(ctx, ag, &inventory.Batch{Reports: []inventory.HostReport{r}}); err != nil {
			t.Fatal(err)
		}
	}
	push("not a key")
	if k := jumpKey(); k != "" {
		t.Fatalf("garbage pinned: %q", k)
	}
	first := newKey()
	push(first)
	if k := jumpKey(); k != first {
		t.Fatalf("pinned %q, want %q", k, first)
	}
	if k := configKey(); k != first {
		t.Fatalf("the agent's cached config does not carry the new pin: %q", k)
	}
	push(newKey())
	if k := jumpKey(); k != first {
		t.Fatalf("a report replaced the pinned key")
	}
}
