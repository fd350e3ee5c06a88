package vaultref_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeVault implements the few Vault HTTP endpoints the resolver uses, with
// the response shapes of Vault's API documentation (envelope with
// request_id, lease fields, data/auth, wrap_info, warnings, mount_type):
// KV v1 and v2 reads, sys/internal/ui/mounts/<path>, AppRole and
// Kubernetes logins, token lookup-self and revoke-self. No Vault or OpenBao
// server can be installed here, so this is what the tests run against.
type fakeVault struct {
	mu        sync.Mutex
	sealed    bool
	namespace string // when set, requests must carry it in X-Vault-Namespace
	// tokens are the valid tokens; login endpoints add to it.
	tokens  map[string]bool
	roleID  string
	secrets map[string]string // AppRole secret_id → true
	k8sRole string
	k8sJWT  string
	// kv maps mount ("secret/") to its version and its secrets by path
	// relative to the mount.
	kv       map[string]*kvMount
	requests map[string]int // "METHOD path" → count
	revoked  []string
}

type kvMount struct {
	version string // "1", "2" or "" (a v1 mount created without options)
	data    map[string]map[string]any
}

func newFakeVault() *fakeVault {
	return &fakeVault{
		tokens:  map[string]bool{"hvs.static-token": true},
		roleID:  "7c2a8d0e-1b1f-4bde-9b1a-0d6a1a3f4e55",
		secrets: map[string]string{"3f1e0c5a-2b8e-4c5d-9a77-6e0f1b2c3d4e": "ok"},
		k8sRole: "vigil-agent",
		k8sJWT:  "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6dmlnaWw6dmlnaWwtYWdlbnQifQ.sig",
		kv: map[string]*kvMount{
			"secret/": {version: "2", data: map[string]map[string]any{
				"hosts/web": {"username": "scan", "password": "v2-web-password", "port": 2222.0},
			}},
			"legacy/": {version: "", data: map[string]map[string]any{
				"ssh/db": {"password": "v1-db-password", "private_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n-----END OPENSSH PRIVATE KEY-----\n"},
			}},
		},
		requests: map[string]int{},
	}
}

// secretValues lists every stored value, to check no error ever shows one.
func (f *fakeVault) secretValues() []string {
	var out []string
	for _, m := range f.kv {
		for _, d := range m.data {
			for _, v := range d {
				if s, ok := v.(string); ok {
					out = append(out, s)
				}
			}
		}
	}
	return append(out, "hvs.static-token", f.k8sJWT, "3f1e0c5a-2b8e-4c5d-9a77-6e0f1b2c3d4e")
}

func (f *fakeVault) count(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[key]
}

func (f *fakeVault) start(t *testing.T, tls bool) *httptest.Server {
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(f)
	} else {
		srv = httptest.NewServer(f)
	}
	t.Cleanup(srv.Close)
	return srv
}

func envelope(data any, mountType string) map[string]any {
	return map[string]any{
		"request_id":     "0d7a4b52-5c7e-2b53-8f44-2c8e8c0b9f11",
		"lease_id":       "",
		"renewable":      false,
		"lease_duration": 0,
		"data":           data,
		"wrap_info":      nil,
		"warnings":       nil,
		"auth":           nil,
		"mount_type":     mountType,
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func vaultErr(w http.ResponseWriter, code int, msgs ...string) {
	if msgs == nil {
		msgs = []string{}
	}
	writeJSON(w, code, map[string]any{"errors": msgs})
}

func (f *fakeVault) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	path := strings.TrimPrefix(r.URL.Path, "/v1/")
	f.requests[r.Method+" "+path]++
	if f.sealed {
		vaultErr(w, http.StatusServiceUnavailable, "Vault is sealed")
		return
	}
	if f.namespace != "" && strings.Trim(r.Header.Get("X-Vault-Namespace"), "/") != f.namespace {
		// Outside the namespace neither the auth mounts nor the KV
		// mounts exist.
		if strings.HasPrefix(path, "auth/") && strings.HasSuffix(path, "/login") {
			vaultErr(w, http.StatusBadRequest, "no handler for route \""+path+"\". route entry not found.")
		} else {
			vaultErr(w, http.StatusForbidden, "permission denied")
		}
		return
	}
	switch {
	case r.Method == http.MethodPut || r.Method == http.MethodPost:
		f.write(w, r, path)
	case r.Method == http.MethodGet:
		if !f.tokens[r.Header.Get("X-Vault-Token")] {
			vaultErr(w, http.StatusForbidden, "permission denied")
			return
		}
		f.read(w, path, r.Header.Get("X-Vault-Token"))
	default:
		vaultErr(w, http.StatusMethodNotAllowed, "unsupported operation")
	}
}

func (f *fakeVault) login(w http.ResponseWriter, token string, metadata map[string]string) {
	f.tokens[token] = true
	env := envelope(nil, "")
	env["auth"] = map[string]any{
		"client_token":    token,
		"accessor":        "pDbYqs8A6cs2NyByW0tTxQjb",
		"policies":        []string{"default", "vigil-read"},
		"token_policies":  []string{"default", "vigil-read"},
		"metadata":        metadata,
		"lease_duration":  2764800,
		"renewable":       true,
		"entity_id":       "5b0d7a3c-1e4c-8b0e-9a57-6c1d9e3f2a10",
		"token_type":      "service",
		"orphan":          true,
		"mfa_requirement": nil,
		"num_uses":        0,
	}
	writeJSON(w, http.StatusOK, env)
}

func (f *fakeVault) write(w http.ResponseWriter, r *http.Request, path string) {
	var body map[string]string
	_ = json.NewDecoder(r.Body).Decode(&body)
	switch path {
	case "auth/approle/login":
		if body["role_id"] != f.roleID {
			vaultErr(w, http.StatusBadRequest, "invalid role ID")
			return
		}
		if f.secrets[body["secret_id"]] == "" {
			vaultErr(w, http.StatusBadRequest, "invalid secret id")
			return
		}
		f.login(w, "hvs.approle-issued", map[string]string{"role_name": "vigil-agent"})
	case "auth/kubernetes/login":
		if body["role"] != f.k8sRole {
			vaultErr(w, http.StatusBadRequest, fmt.Sprintf("invalid role name %q", body["role"]))
			return
		}
		if body["jwt"] != f.k8sJWT {
			vaultErr(w, http.StatusForbidden, "permission denied")
			return
		}
		f.login(w, "hvs.k8s-issued", map[string]string{"role": "vigil-agent", "service_account_name": "vigil-agent",
			"service_account_namespace": "vigil", "service_account_uid": "b2c8e5a4-7d0e-4f1e-8e3b-2a6c5d4e3f21"})
	case "auth/token/revoke-self":
		tok := r.Header.Get("X-Vault-Token")
		if !f.tokens[tok] {
			vaultErr(w, http.StatusForbidden, "permission denied")
			return
		}
		delete(f.tokens, tok)
		f.revoked = append(f.revoked, tok)
		w.WriteHeader(http.StatusNoContent)
	default:
		vaultErr(w, http.StatusNotFound)
	}
}

func (f *fakeVault) mountOf(path string) (string, *kvMount) {
	for name, m := range f.kv {
		if strings.HasPrefix(path+"/", name) {
			return name, m
		}
	}
	return "", nil
}

func (f *fakeVault) read(w http.ResponseWriter, path, token string) {
	if p, ok := strings.CutPrefix(path, "sys/internal/ui/mounts/"); ok {
		name, m := f.mountOf(p)
		if m == nil {
			vaultErr(w, http.StatusForbidden, fmt.Sprintf("preflight capability check returned 403, please ensure client's policies grant access to path %q", p+"/"))
			return
		}
		var options any // a v1 mount enabled without -version has no options
		if m.version != "" {
			options = map[string]string{"version": m.version}
		}
		writeJSON(w, http.StatusOK, envelope(map[string]any{
			"accessor":                "kv_4b2c1d0e",
			"config":                  map[string]any{"default_lease_ttl": 0, "force_no_cache": false, "max_lease_ttl": 0},
			"description":             "key/value secret storage",
			"external_entropy_access": false,
			"local":                   false,
			"options":                 options,
			"path":                    name,
			"plugin_version":          "",
			"running_plugin_version":  "v0.20.0+builtin",
			"running_sha256":          "",
			"seal_wrap":               false,
			"type":                    "kv",
			"uuid":                    "2a1c4d5e-6f70-8192-a3b4-c5d6e7f80912",
		}, "system"))
		return
	}
	if path == "auth/token/lookup-self" {
		writeJSON(w, http.StatusOK, envelope(map[string]any{
			"accessor": "8609694a-cdbc-db9b-d345-e782dbb562ed", "creation_time": 1523979354, "creation_ttl": 2764800,
			"display_name": "token-vigil", "entity_id": "", "expire_time": "2026-12-29T09:00:00.000000Z", "explicit_max_ttl": 0,
			"id": token, "issue_time": "2026-11-27T09:00:00.000000Z", "meta": nil, "num_uses": 0, "orphan": false,
			"path": "auth/token/create", "policies": []string{"default", "vigil-read"}, "renewable": true, "ttl": 2764790, "type": "service",
		}, "token"))
		return
	}
	name, m := f.mountOf(path)
	if m == nil {
		vaultErr(w, http.StatusForbidden, "permission denied")
		return
	}
	rel := strings.TrimPrefix(path, name)
	if m.version == "2" {
		rel, ok := strings.CutPrefix(rel, "data/")
		d, found := m.data[rel]
		if !ok || !found {
			vaultErr(w, http.StatusNotFound)
			return
		}
		writeJSON(w, http.StatusOK, envelope(map[string]any{
			"data": d,
			"metadata": map[string]any{"created_time": "2026-11-20T02:24:06.945319214Z", "custom_metadata": nil,
				"deletion_time": "", "destroyed": false, "version": 3},
		}, "kv"))
		return
	}
	d, found := m.data[rel]
	if !found {
		vaultErr(w, http.StatusNotFound)
		return
	}
	env := envelope(d, "kv")
	env["lease_duration"] = 2764800
	writeJSON(w, http.StatusOK, env)
}
