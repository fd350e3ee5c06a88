package vaultref_test

import (
	"context"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/vaultref"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func approle(t *testing.T, f *fakeVault, addr string) vaultref.Config {
	return vaultref.Config{Address: addr, Auth: vaultref.Auth{Method: vaultref.MethodAppRole, RoleID: f.roleID,
		SecretIDFile: writeFile(t, "3f1e0c5a-2b8e-4c5d-9a77-6e0f1b2c3d4e\n")}}
}

func newResolver(t *testing.T, cfg vaultref.Config) *vaultref.Resolver {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	r, err := vaultref.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(context.Background()) })
	return r
}

func TestResolve(t *testing.T) {
	f := newFakeVault()
	srv := f.start(t, false)
	ctx := context.Background()
	tokenFile := writeFile(t, "hvs.static-token\n")

	tests := []struct {
		name string
		cfg  func() vaultref.Config
		in   inventory.Credential
		want inventory.Credential
		// requests that must have been made exactly this often.
		requests map[string]int
	}{
		{"kv v2 detected, approle login",
			func() vaultref.Config { return approle(t, f, srv.URL) },
			inventory.Credential{Username: "vault:secret/hosts/web#username", Password: "vault:secret/hosts/web#password"},
			inventory.Credential{Username: "scan", Password: "v2-web-password"},
			map[string]int{"PUT auth/approle/login": 1, "GET sys/internal/ui/mounts/secret/hosts/web": 1, "GET secret/data/hosts/web": 1}},
		{"kv v1 detected (mount without options), token auth",
			func() vaultref.Config {
				return vaultref.Config{Address: srv.URL, Auth: vaultref.Auth{Method: vaultref.MethodToken, TokenFile: tokenFile}}
			},
			inventory.Credential{Username: "root", PrivateKey: "vault:legacy/ssh/db#private_key"},
			inventory.Credential{Username: "root", PrivateKey: f.kv["legacy/"].data["ssh/db"]["private_key"].(string)},
			map[string]int{"GET auth/token/lookup-self": 1, "GET legacy/ssh/db": 1}},
		{"kv_version 2 configured: no mount lookup",
			func() vaultref.Config {
				c := approle(t, f, srv.URL)
				c.KVVersion = 2
				return c
			},
			inventory.Credential{Username: "scan", Password: "vault:secret/hosts/web#password"},
			inventory.Credential{Username: "scan", Password: "v2-web-password"},
			map[string]int{"GET sys/internal/ui/mounts/secret/hosts/web": 0, "GET secret/data/hosts/web": 1}},
		{"kubernetes login with the service-account token",
			func() vaultref.Config {
				return vaultref.Config{Address: srv.URL, Auth: vaultref.Auth{Method: vaultref.MethodKubernetes, Role: "vigil-agent", JWTFile: writeFile(t, f.k8sJWT)}}
			},
			inventory.Credential{Username: "scan", Password: "vault:legacy/ssh/db#password"},
			inventory.Credential{Username: "scan", Password: "v1-db-password"},
			map[string]int{"PUT auth/kubernetes/login": 1}},
		{"no references: Vault not contacted",
			func() vaultref.Config { return approle(t, f, srv.URL) },
			inventory.Credential{Username: "scan", Password: "plain"},
			inventory.Credential{Username: "scan", Password: "plain"},
			map[string]int{"PUT auth/approle/login": 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.mu.Lock()
			f.requests = map[string]int{}
			f.mu.Unlock()
			r := newResolver(t, tc.cfg())
			in := tc.in
			// Two hosts sharing the credential in one run: one read.
			for range 2 {
				got, err := r.Resolve(ctx, &in)
				if err != nil {
					t.Fatal(err)
				}
				if *got != tc.want {
					t.Fatalf("resolved %+v, want %+v", *got, tc.want)
				}
			}
			if in != tc.in {
				t.Errorf("Resolve changed its input: %+v", in)
			}
			for k, n := range tc.requests {
				if got := f.count(k); got != n {
					t.Errorf("%s requested %d times, want %d", k, got, n)
				}
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	f := newFakeVault()
	srv := f.start(t, false)
	ctx := context.Background()
	tests := []struct {
		name    string
		cfg     func() vaultref.Config
		fake    func()
		ref     string
		wantErr string
	}{
		{"wrong role_id", func() vaultref.Config {
			c := approle(t, f, srv.URL)
			c.Auth.RoleID = "not-the-role"
			return c
		}, nil, "vault:secret/hosts/web#password", "invalid role ID"},
		{"wrong secret_id", func() vaultref.Config {
			c := approle(t, f, srv.URL)
			c.Auth.SecretIDFile = writeFile(t, "stale-secret-id")
			return c
		}, nil, "vault:secret/hosts/web#password", "invalid secret id"},
		{"wrong kubernetes role", func() vaultref.Config {
			return vaultref.Config{Address: srv.URL, Auth: vaultref.Auth{Method: vaultref.MethodKubernetes, Role: "other", JWTFile: writeFile(t, f.k8sJWT)}}
		}, nil, "vault:secret/hosts/web#password", `invalid role name "other"`},
		{"rejected token", func() vaultref.Config {
			return vaultref.Config{Address: srv.URL, Auth: vaultref.Auth{Method: vaultref.MethodToken, TokenFile: writeFile(t, "hvs.revoked")}}
		}, nil, "vault:secret/hosts/web#password", "lookup-self): permission denied"},
		{"missing key lists the keys", func() vaultref.Config { return approle(t, f, srv.URL) }, nil,
			"vault:secret/hosts/web#passwd", `no key "passwd" (it has: password, port, username)`},
		{"non-string value", func() vaultref.Config { return approle(t, f, srv.URL) }, nil,
			"vault:secret/hosts/web#port", "not a string"},
		{"missing path v2", func() vaultref.Config { return approle(t, f, srv.URL) }, nil,
			"vault:secret/hosts/nothing#password", "no secret at secret/hosts/nothing"},
		{"missing path v1", func() vaultref.Config { return approle(t, f, srv.URL) }, nil,
			"vault:legacy/ssh/nothing#password", "no secret at legacy/ssh/nothing"},
		{"no such mount", func() vaultref.Config { return approle(t, f, srv.URL) }, nil,
			"vault:nomount/x#password", "permission denied (HTTP 403: preflight capability check"},
		{"sealed", func() vaultref.Config { return approle(t, f, srv.URL) }, func() { f.sealed = true },
			"vault:secret/hosts/web#password", "Vault is sealed or unavailable (HTTP 503: Vault is sealed)"},
		{"namespace required but not configured", func() vaultref.Config { return approle(t, f, srv.URL) }, func() { f.namespace = "ops" },
			"vault:secret/hosts/web#password", "no handler for route"},
		{"reference without key", func() vaultref.Config { return approle(t, f, srv.URL) }, nil,
			"vault:secret/hosts/web", "give the key after '#'"},
		{"unreachable", func() vaultref.Config {
			c := approle(t, f, "http://127.0.0.1:1")
			return c
		}, nil, "vault:secret/hosts/web#password", "Vault unreachable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.mu.Lock()
			f.sealed, f.namespace = false, ""
			f.mu.Unlock()
			if tc.fake != nil {
				f.mu.Lock()
				tc.fake()
				f.mu.Unlock()
			}
			r := newResolver(t, tc.cfg())
			_, err := r.Resolve(ctx, &inventory.Credential{Username: "scan", Password: tc.ref})
			var ve *vaultref.Error
			if !errors.As(err, &ve) || ve.Field != "password" || ve.Ref != tc.ref {
				t.Fatalf("err = %v, want a *vaultref.Error for password %s", err, tc.ref)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not say %q", err, tc.wantErr)
			}
			for _, secret := range f.secretValues() {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error shows a secret: %q", err)
				}
			}
		})
	}
}

// A failed login is not retried for every host of the run.
func TestLoginOncePerRun(t *testing.T) {
	f := newFakeVault()
	srv := f.start(t, false)
	c := approle(t, f, srv.URL)
	c.Auth.RoleID = "wrong"
	r := newResolver(t, c)
	for range 5 {
		if _, err := r.Resolve(context.Background(), &inventory.Credential{Username: "u", Password: "vault:secret/hosts/web#password"}); err == nil {
			t.Fatal("resolved with a wrong role")
		}
	}
	if n := f.count("PUT auth/approle/login"); n != 1 {
		t.Errorf("%d logins in one run, want 1", n)
	}
}

// Nothing survives a run: the next run logs in and reads again, and the
// login token of the finished run is revoked.
func TestNothingCachedBetweenRuns(t *testing.T) {
	f := newFakeVault()
	srv := f.start(t, false)
	cfg := approle(t, f, srv.URL)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	cred := &inventory.Credential{Username: "u", Password: "vault:secret/hosts/web#password"}
	for run := 1; run <= 2; run++ {
		r, err := vaultref.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.Resolve(context.Background(), cred)
		if err != nil || got.Password != "v2-web-password" {
			t.Fatalf("run %d: %v %+v", run, err, got)
		}
		if run == 1 {
			// The secret is rotated between runs.
			f.mu.Lock()
			f.kv["secret/"].data["hosts/web"] = map[string]any{"password": "rotated"}
			f.mu.Unlock()
			got, _ = r.Resolve(context.Background(), cred)
			if got.Password != "v2-web-password" {
				t.Fatalf("within a run the secret is read once; got %q", got.Password)
			}
			f.mu.Lock()
			f.kv["secret/"].data["hosts/web"] = map[string]any{"password": "v2-web-password"}
			f.mu.Unlock()
		}
		r.Close(context.Background())
	}
	if n := f.count("PUT auth/approle/login"); n != 2 {
		t.Errorf("%d logins for two runs", n)
	}
	if n := f.count("GET secret/data/hosts/web"); n != 2 {
		t.Errorf("%d reads for two runs", n)
	}
	if len(f.revoked) != 2 || f.revoked[0] != "hvs.approle-issued" {
		t.Errorf("revoked tokens: %v", f.revoked)
	}
}

func TestNamespaceHeader(t *testing.T) {
	f := newFakeVault()
	f.namespace = "ops/team-a"
	srv := f.start(t, false)
	cfg := approle(t, f, srv.URL)
	cfg.Namespace = "ops/team-a"
	r := newResolver(t, cfg)
	got, err := r.Resolve(context.Background(), &inventory.Credential{Username: "u", Password: "vault:secret/hosts/web#password"})
	if err != nil || got.Password != "v2-web-password" {
		t.Fatalf("%v %+v", err, got)
	}
}

func TestCAFile(t *testing.T) {
	f := newFakeVault()
	srv := f.start(t, true)
	ca := writeFile(t, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})))
	cred := &inventory.Credential{Username: "u", Password: "vault:secret/hosts/web#password"}

	cfg := approle(t, f, srv.URL)
	cfg.CAFile = ca
	if got, err := newResolver(t, cfg).Resolve(context.Background(), cred); err != nil || got.Password != "v2-web-password" {
		t.Fatalf("with ca_file: %v", err)
	}
	cfg = approle(t, f, srv.URL)
	_, err := newResolver(t, cfg).Resolve(context.Background(), cred)
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without ca_file, a self-signed Vault must be refused: %v", err)
	}
}

func TestNoVaultConfigured(t *testing.T) {
	var r *vaultref.Resolver
	_, err := r.Resolve(context.Background(), &inventory.Credential{Username: "u", Password: "vault:secret/x#y"})
	if err == nil || !strings.Contains(err.Error(), "no vault: block") {
		t.Fatalf("err = %v", err)
	}
	c := &inventory.Credential{Username: "u", Password: "plain"}
	if got, err := r.Resolve(context.Background(), c); err != nil || got != c {
		t.Fatalf("plain credential: %v", err)
	}
}
