package web

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/store"
)

// TestAddWindowsHost: the add-host form creates WinRM hosts with their
// listener settings and default port, and refuses combinations that cannot
// work, showing the form again with what was entered.
func TestAddWindowsHost(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	const secret = "Win-Passw0rd-do-not-echo"
	const ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
	wantForm(t, e.get(s, "/hosts/new", http.StatusOK))
	tests := []struct {
		name   string
		form   url.Values
		status int
		body   []string
	}{
		{"https ntlm with CA, default port", url.Values{"name": {"win-01"}, "address": {"192.0.2.30"}, "port": {"22"}, "transport": {"winrm"},
			"winrm_auth": {"ntlm"}, "winrm_ca": {ca}, "username": {`CORP\svc-vigil`}, "password": {secret}}, http.StatusSeeOther, nil},
		{"http ntlm", url.Values{"name": {"win-02"}, "address": {"192.0.2.31"}, "port": {""}, "transport": {"winrm"},
			"winrm_http": {"1"}, "username": {"vigil"}, "password": {secret}}, http.StatusSeeOther, nil},
		{"basic over http", url.Values{"name": {"win-03"}, "address": {"192.0.2.32"}, "transport": {"winrm"}, "winrm_http": {"1"},
			"winrm_auth": {"basic"}, "username": {"vigil"}, "password": {secret}},
			http.StatusBadRequest, []string{"password in clear", `value="win-03"`, `value="winrm" checked`}},
		{"private key", url.Values{"name": {"win-04"}, "address": {"192.0.2.33"}, "transport": {"winrm"}, "username": {"vigil"},
			"private_key": {"-----BEGIN OPENSSH PRIVATE KEY-----\nxx\n-----END OPENSSH PRIVATE KEY-----"}},
			http.StatusBadRequest, []string{"private keys are for SSH"}},
		{"CA not PEM", url.Values{"name": {"win-05"}, "address": {"192.0.2.34"}, "transport": {"winrm"}, "winrm_ca": {"MIIB"}},
			http.StatusBadRequest, []string{"PEM format", ">MIIB</textarea>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(req{method: "POST", path: "/hosts", form: withCSRF(s, tt.form), sess: s})
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d\n%s", w.Code, tt.status, w.Body)
			}
			wantNotContains(t, w.Body.String(), secret)
			if tt.status != http.StatusSeeOther {
				wantContains(t, w.Body.String(), tt.body...)
			}
		})
	}
	hosts, err := e.svc.ListHosts(context.Background(), e.admin, store.HostFilter{})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]int{}
	for i, h := range hosts {
		byName[h.Name] = i
	}
	h1, h2 := hosts[byName["win-01"]], hosts[byName["win-02"]]
	if len(hosts) != 2 || h1.Transport != inventory.TransportWinRM || h1.Port != 5986 || h1.Options.WinRM == nil ||
		!h1.Options.WinRM.HTTPS || h1.Options.WinRM.CAPEM != ca || h1.Options.WinRM.Auth != "ntlm" {
		t.Fatalf("win-01: %+v %+v", h1, h1.Options.WinRM)
	}
	if h2.Port != 5985 || h2.Options.WinRM.HTTPS {
		t.Fatalf("win-02: %+v %+v", h2, h2.Options.WinRM)
	}
}

// wantForm checks the add-host form offers WinRM and its settings.
func wantForm(t *testing.T, body string) {
	t.Helper()
	wantContains(t, body, `name="transport" value="winrm"`, `name="winrm_auth"`, `name="winrm_http"`, `name="winrm_insecure"`, `name="winrm_ca"`)
}
