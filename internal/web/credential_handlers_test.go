package web

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestDefaultCredentials(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	const password = "pw-never-shown-0xC0FFEE"
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	// A textarea submits CRLF line ends; the key must still be accepted.
	key := strings.ReplaceAll(string(pem.EncodeToMemory(block)), "\n", "\r\n")
	keyBody := strings.Split(string(pem.EncodeToMemory(block)), "\n")[1]

	body := e.get(s, "/settings/credentials", http.StatusOK)
	wantContains(t, body, "No default credentials are set", `action="/settings/credentials/default"`, `for="username"`, `for="password"`)

	tests := []struct {
		name   string
		form   url.Values
		status int
		want   []string // on the page afterwards
	}{
		{"no secret on first save", url.Values{"username": {"scan"}}, http.StatusBadRequest, []string{"one is required", `value="scan"`}},
		{"no username", url.Values{"password": {password}}, http.StatusBadRequest, []string{"username: required"}},
		{"password", url.Values{"username": {"scan"}, "password": {password}}, http.StatusSeeOther, []string{"Default credentials saved.", "password set", ">scan<"}},
		{"username only keeps the secret", url.Values{"username": {"inventory"}}, http.StatusSeeOther, []string{"password set", ">inventory<"}},
		{"private key replaces the password", url.Values{"username": {"inventory"}, "private_key": {key}}, http.StatusSeeOther, []string{"private key set", ">inventory<"}},
		{"password and key", url.Values{"username": {"x"}, "password": {password}, "private_key": {key}}, http.StatusBadRequest, []string{"give one, not both"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(req{method: "POST", path: "/settings/credentials/default", form: withCSRF(s, tt.form), sess: s})
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d\n%s", w.Code, tt.status, w.Body)
			}
			page := w.Body.String()
			if tt.status == http.StatusSeeOther {
				page = e.get(s, w.Header().Get("Location"), http.StatusOK)
			}
			wantContains(t, page, tt.want...)
			wantNotContains(t, page, password, keyBody, "PRIVATE KEY-----\n")
		})
	}
	c, err := e.svc.Store.GetDefaultCredential(context.Background(), e.ws.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Username != "inventory" || !c.HasPrivateKey || c.HasPassword {
		t.Errorf("stored default: username %q, key %v, password %v", c.Username, c.HasPrivateKey, c.HasPassword)
	}
	if strings.Contains(string(c.SealedPrivateKey), keyBody) {
		t.Error("private key stored in the clear")
	}
}
