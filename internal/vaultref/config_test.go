package vaultref_test

import (
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/vaultref"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     vaultref.Config
		wantErr string
	}{
		{"token from env", vaultref.Config{Address: "https://vault:8200", Auth: vaultref.Auth{Method: "token"}}, ""},
		{"no scheme", vaultref.Config{Address: "vault:8200", Auth: vaultref.Auth{Method: "token"}}, "must be an http(s) URL"},
		{"unknown method", vaultref.Config{Address: "https://v", Auth: vaultref.Auth{Method: "ldap"}}, "use token, approle or kubernetes"},
		{"no method", vaultref.Config{Address: "https://v"}, "method is required"},
		{"approle without secret file", vaultref.Config{Address: "https://v", Auth: vaultref.Auth{Method: "approle", RoleID: "r"}}, "role_id and secret_id_file"},
		{"approle secret file missing", vaultref.Config{Address: "https://v", Auth: vaultref.Auth{Method: "approle", RoleID: "r", SecretIDFile: "/nonexistent/x"}}, "secret_id_file"},
		{"kubernetes without role", vaultref.Config{Address: "https://v", Auth: vaultref.Auth{Method: "kubernetes"}}, "needs role"},
		{"kv version 3", vaultref.Config{Address: "https://v", KVVersion: 3, Auth: vaultref.Auth{Method: "token"}}, "kv_version must be 1 or 2"},
		{"ca file missing", vaultref.Config{Address: "https://v", CAFile: "/nonexistent/ca.pem", Auth: vaultref.Auth{Method: "token"}}, "ca_file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
	k := vaultref.Config{Address: "https://v", Auth: vaultref.Auth{Method: "kubernetes", Role: "r"}}
	if err := k.Validate(); err != nil || k.Auth.JWTFile != vaultref.DefaultJWTFile || k.Auth.Mount != "kubernetes" {
		t.Errorf("kubernetes defaults: %v %+v", err, k.Auth)
	}
}

func TestParseRef(t *testing.T) {
	tests := []struct {
		in, path, key, wantErr string
	}{
		{"vault:secret/db/prod#password", "secret/db/prod", "password", ""},
		{"vault:/secret/db/#user", "secret/db", "user", ""},
		{"vault:kv/a#key#with#hash", "kv/a", "key#with#hash", ""},
		{"vault:secret/db", "", "", "give the key"},
		{"vault:secret/db#", "", "", "give the key"},
		{"vault:#password", "", "", "path is empty"},
		{"vault:secret/../sys#x", "", "", "'..'"},
		{"vault:secret//db#x", "", "", "empty"},
		{"vault:secret/db?version=1#x", "", "", "cannot"},
		{"secret/db#x", "", "", "not a vault"},
	}
	for _, tc := range tests {
		r, err := vaultref.ParseRef(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseRef(%q) err = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || r.Path != tc.path || r.Key != tc.key {
			t.Errorf("ParseRef(%q) = %+v, %v", tc.in, r, err)
		}
	}
}

func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"vault:secret/db#password", "vault:#", "vault:a/../b#c", "vault:a//b#c", "vault:/x/#y#z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := vaultref.ParseRef(s)
		if err != nil {
			return
		}
		if r.Path == "" || r.Key == "" || strings.HasPrefix(r.Path, "/") || strings.HasSuffix(r.Path, "/") {
			t.Fatalf("ParseRef(%q) = %+v", s, r)
		}
		for _, el := range strings.Split(r.Path, "/") {
			if el == "" || el == "." || el == ".." {
				t.Fatalf("ParseRef(%q) let %q through", s, r.Path)
			}
		}
	})
}
