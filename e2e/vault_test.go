package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// kvV2AppRoleVault is the part of Vault the agent uses with AppRole and a
// KV v2 mount at secret/, answering in Vault's response shapes (see
// internal/vaultref's fake for the full set and the tests of each failure).
type kvV2AppRoleVault struct {
	mu       sync.Mutex
	roleID   string
	secretID string
	data     map[string]map[string]any // path under secret/ → data
	reads    int
	logins   int
}

func (v *kvV2AppRoleVault) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v.mu.Lock()
	defer v.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	reply := func(code int, body any) {
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(body)
	}
	env := func(data any) map[string]any {
		return map[string]any{"request_id": "7f0c1b2a-0000-4000-8000-000000000001", "lease_id": "", "renewable": false,
			"lease_duration": 0, "data": data, "wrap_info": nil, "warnings": nil, "auth": nil}
	}
	path := strings.TrimPrefix(r.URL.Path, "/v1/")
	if path == "auth/approle/login" && (r.Method == http.MethodPut || r.Method == http.MethodPost) {
		var body map[string]string
		json.NewDecoder(r.Body).Decode(&body)
		v.logins++
		if body["role_id"] != v.roleID || body["secret_id"] != v.secretID {
			reply(400, map[string]any{"errors": []string{"invalid role or secret ID"}})
			return
		}
		e := env(nil)
		e["auth"] = map[string]any{"client_token": "hvs.e2e-token", "accessor": "acc", "policies": []string{"default", "vigil"},
			"token_policies": []string{"default", "vigil"}, "lease_duration": 3600, "renewable": true, "token_type": "service", "orphan": true}
		reply(200, e)
		return
	}
	if r.Header.Get("X-Vault-Token") != "hvs.e2e-token" {
		reply(403, map[string]any{"errors": []string{"permission denied"}})
		return
	}
	switch {
	case path == "auth/token/revoke-self":
		w.WriteHeader(204)
	case strings.HasPrefix(path, "sys/internal/ui/mounts/secret/"):
		reply(200, env(map[string]any{"path": "secret/", "type": "kv", "options": map[string]any{"version": "2"}}))
	case strings.HasPrefix(path, "secret/data/"):
		v.reads++
		d, ok := v.data[strings.TrimPrefix(path, "secret/data/")]
		if !ok {
			reply(404, map[string]any{"errors": []string{}})
			return
		}
		reply(200, env(map[string]any{"data": d, "metadata": map[string]any{"version": 1, "destroyed": false, "deletion_time": ""}}))
	default:
		reply(404, map[string]any{"errors": []string{}})
	}
}

// The host's private key lives only in Vault: the server stores the
// reference, the agent resolves it at scan time and logs in with it; a host
// whose reference points at nothing gets a "credential" error and the other
// is scanned.
func TestVaultCredential(t *testing.T) {
	sshd := startSSHD(t)
	vault := &kvV2AppRoleVault{roleID: "role-e2e", secretID: "secret-id-e2e",
		data: map[string]map[string]any{"linux/sshd": {"username": sshd.user, "private_key": sshd.keyPEM}}}
	vs := httptest.NewServer(vault)
	defer vs.Close()

	srv := startServer(t, "")
	agentKey := srv.admin(t, "agent-key", "--name", "vault-agent")
	token := srv.admin(t, "api-token", "--name", "vault")
	for _, h := range []map[string]any{
		{"name": "from-vault", "address": "127.0.0.1", "port": sshd.port, "transport": "ssh",
			"username": "vault:secret/linux/sshd#username", "private_key": "vault:secret/linux/sshd#private_key"},
		{"name": "missing-secret", "address": "127.0.0.1", "port": sshd.port, "transport": "ssh",
			"username": sshd.user, "private_key": "vault:secret/linux/nothing#private_key"},
	} {
		var out map[string]any
		if code := srv.api(t, token, "POST", "/api/v1/hosts", h, &out); code != 201 {
			t.Fatalf("add host %v: %d %v", h["name"], code, out)
		}
	}
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret-id")
	os.WriteFile(secretFile, []byte(vault.secretID+"\n"), 0o600)
	cfgFile := filepath.Join(dir, "agent.yaml")
	cfg := fmt.Sprintf(`api_url: %s
api_key: %s
spool_dir: %s
connect_timeout: 5s
vault:
  address: %s
  auth:
    method: approle
    role_id: %s
    secret_id_file: %s
`, srv.url, agentKey, filepath.Join(dir, "spool"), vs.URL, vault.roleID, secretFile)
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	out := runAgent(t, cfgFile)
	if !strings.Contains(out, "scanned 2 hosts: 1 ok, 1 failed") {
		t.Fatalf("agent output:\n%s", out)
	}
	keyBody := strings.Split(sshd.keyPEM, "\n")[1]
	if strings.Contains(out, keyBody) {
		t.Errorf("the agent logged the private key")
	}
	hs := srv.hosts(t, token)
	if h := hs["from-vault"]; h.LastError != "" || h.PackageCount == 0 {
		t.Errorf("host with its key in Vault: %+v", h)
	}
	if h := hs["missing-secret"]; h.LastErrorKind != "credential" || !strings.Contains(h.LastError, "no secret at secret/linux/nothing") {
		t.Errorf("host with a missing secret: %+v", h)
	}
	vault.mu.Lock()
	logins := vault.logins
	vault.mu.Unlock()
	if logins != 1 {
		t.Errorf("%d Vault logins for one run", logins)
	}
	if strings.Contains(srv.stderr.String(), keyBody) {
		t.Errorf("the server logged the private key")
	}

	// agent check: Vault login line, then the two hosts.
	checkOut, err := exec.Command(vigilBin, "agent", "check", "--config", cfgFile).CombinedOutput()
	if err == nil {
		t.Errorf("agent check succeeded with a host whose secret is missing")
	}
	for _, want := range []string{"vault:   ok " + vs.URL + " (approle login)", "from-vault", "login ok", "missing-secret", "no secret at secret/linux/nothing"} {
		if !strings.Contains(string(checkOut), want) {
			t.Errorf("agent check output lacks %q:\n%s", want, checkOut)
		}
	}
	os.WriteFile(secretFile, []byte("stale-secret-id\n"), 0o600)
	checkOut, _ = exec.Command(vigilBin, "agent", "check", "--config", cfgFile).CombinedOutput()
	if !strings.Contains(string(checkOut), "vault:   FAIL") || !strings.Contains(string(checkOut), "invalid role or secret ID") {
		t.Errorf("agent check with a stale secret ID:\n%s", checkOut)
	}
}
