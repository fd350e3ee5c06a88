package web

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/store"
)

func TestAddHost(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	const secret = "hunter2-do-not-echo"
	tests := []struct {
		name   string
		form   url.Values
		status int
		body   []string // on error: what the re-rendered form shows
	}{
		{"ok with password", url.Values{"name": {"web-01"}, "address": {"192.0.2.10"}, "port": {"2222"},
			"username": {"scan"}, "password": {secret}}, http.StatusSeeOther, nil},
		{"ok with default credentials", url.Values{"address": {"192.0.2.11"}, "port": {""}}, http.StatusSeeOther, nil},
		{"address missing", url.Values{"name": {"web-02"}, "username": {"scan"}, "password": {secret}},
			http.StatusBadRequest, []string{"address: required", `value="web-02"`, `value="scan"`}},
		{"password and key", url.Values{"name": {"web-03"}, "address": {"192.0.2.13"}, "username": {"scan"},
			"password": {secret}, "private_key": {"-----BEGIN OPENSSH PRIVATE KEY-----\nxx\n-----END OPENSSH PRIVATE KEY-----"}},
			http.StatusBadRequest, []string{"give one, not both", `value="192.0.2.13"`}},
		{"bad key", url.Values{"name": {"web-04"}, "address": {"192.0.2.14"}, "username": {"scan"}, "private_key": {secret}},
			http.StatusBadRequest, []string{"private_key: not a usable private key"}},
		{"port not a number", url.Values{"name": {"web-05"}, "address": {"192.0.2.15"}, "port": {"ssh"}, "password": {secret}},
			http.StatusBadRequest, []string{"port: must be a number", `value="ssh"`}},
		{"username without secret", url.Values{"name": {"web-06"}, "address": {"192.0.2.16"}, "username": {"scan"}},
			http.StatusBadRequest, []string{"leave the username empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(req{method: "POST", path: "/hosts", form: withCSRF(s, tt.form), sess: s})
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d\n%s", w.Code, tt.status, w.Body)
			}
			body := w.Body.String()
			wantNotContains(t, body, secret)
			if tt.status != http.StatusSeeOther {
				wantContains(t, body, tt.body...)
				wantContains(t, body, `role="alert"`, "<h1>Add host</h1>")
				return
			}
			loc := w.Header().Get("Location")
			if !regexp.MustCompile(`^/hosts/\d+$`).MatchString(loc) {
				t.Fatalf("Location %q, want /hosts/{id}", loc)
			}
			page := e.get(s, loc, http.StatusOK)
			wantContains(t, page, "Never scanned", "Not scanned yet")
			wantNotContains(t, page, secret)
		})
	}
	hosts, err := e.svc.ListHosts(context.Background(), e.admin, store.HostFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(hosts) != 2 || hosts[1].Port != 2222 || hosts[0].Port != 22 {
		t.Errorf("stored hosts: %+v", hosts)
	}
}

func TestHostPage(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	h := e.host("web-01")
	key, fp := hostKey(t)
	r := report(h, e.svc.Now().Add(-10*time.Minute),
		deb("openssl", "3.0.11-1~deb12u2", "openssl"),
		deb("libssl3", "3.0.11-1~deb12u2", "openssl"),
		deb("bash", "5.2.15-2+b2", "bash"),
		inventory.Package{Name: "kernel-core", Epoch: "1", Version: "5.14.0", Release: "362.el9", Arch: "x86_64", Ecosystem: inventory.EcosystemRPM},
	)
	r.HostKey = key
	e.ingest(r)
	failed := report(h, e.svc.Now().Add(-5*time.Minute))
	failed.Status, failed.Error, failed.ErrorKind, failed.System, failed.Packages =
		inventory.StatusError, "dial tcp 10.0.0.6:22: connect: connection refused", inventory.ErrKindUnreachable, inventory.System{}, nil
	e.ingest(failed)

	body := e.get(s, fmt.Sprintf("/hosts/%d", h.ID), http.StatusOK)
	wantContains(t, body,
		"<h1>web-01", "Debian GNU/Linux 12 (bookworm)", "6.1.0-18-amd64", "x86_64", "web-01.example.net",
		"AMD EPYC 7302P", "1 socket, 16 cores, 32 threads", "64.0 GiB", "48.0 GiB", "3 days 5 h",
		"agent-1",
		"openssl", "3.0.11-1~deb12u2", "1:5.14.0-362.el9", "Showing 1–4 of 4 packages",
		"unreachable: dial tcp 10.0.0.6:22: connect: connection refused", "badge-error",
		`hx-get="/hosts/`, `hx-target="#pkg-rows"`, `<tbody id="pkg-rows">`,
		"Scan history", "1.5 s",
	)
	wantContains(t, html.UnescapeString(body), fp) // html/template writes "+" as &#43;
	if n := strings.Count(body, `<th scope="row">`); n < 4 {
		t.Errorf("%d row headers, want at least the 4 packages", n)
	}

	tests := []struct {
		name    string
		path    string
		htmx    bool
		want    []string
		notWant []string
	}{
		{"htmx partial filters by name or source", "/packages?q=SSL", true,
			[]string{">openssl<", ">libssl3<", `id="pkg-summary"`, `hx-swap-oob="true"`, "of 2 packages"},
			[]string{">bash<", "<html", "<tbody"}},
		{"htmx partial, no match", "/packages?q=zzz", true,
			[]string{"No packages match “zzz”"}, []string{">openssl<"}},
		{"plain request gets the full page", "/packages?q=bash", false,
			[]string{"<html", ">bash<", `value="bash"`}, []string{">openssl<"}},
		{"host page with q, no JavaScript", "?q=bash", false,
			[]string{"<html", ">bash<", "Showing 1–1 of 1 package matching “bash”"}, []string{">libssl3<"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tt.htmx {
				hdr["HX-Request"] = "true"
			}
			w := e.do(req{path: fmt.Sprintf("/hosts/%d%s", h.ID, tt.path), sess: s, headers: hdr})
			if w.Code != http.StatusOK {
				t.Fatalf("status %d\n%s", w.Code, w.Body)
			}
			wantContains(t, w.Body.String(), tt.want...)
			wantNotContains(t, w.Body.String(), tt.notWant...)
		})
	}
}

func TestPackagePaging(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	h := e.host("big")
	pkgs := make([]inventory.Package, 450)
	for i := range pkgs {
		pkgs[i] = deb(fmt.Sprintf("pkg-%03d", i), "1.0", "")
	}
	e.ingest(report(h, e.svc.Now().Add(-time.Minute), pkgs...))
	body := e.get(s, fmt.Sprintf("/hosts/%d", h.ID), http.StatusOK)
	wantContains(t, body, "Showing 1–200 of 450 packages", "Page 1 of 3", `page=2#packages`, ">pkg-199<")
	wantNotContains(t, body, ">pkg-200<")
	body = e.get(s, fmt.Sprintf("/hosts/%d?page=3", h.ID), http.StatusOK)
	wantContains(t, body, "Showing 401–450 of 450 packages", ">pkg-449<", "Page 3 of 3")
}

func TestHostsList(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	body := e.get(s, "/hosts", http.StatusOK)
	wantContains(t, body, "No hosts yet", `href="/hosts/new"`, "set default credentials")

	now := e.svc.Now()
	fresh, stale, broken, never := e.host("fresh"), e.host("stale-one"), e.host("broken"), e.host("never")
	e.ingest(report(fresh, now.Add(-5*time.Minute), deb("bash", "5.2", "bash")))
	e.ingest(report(stale, now.Add(-4*time.Hour), deb("bash", "5.2", "bash"))) // interval is 1 h
	bad := report(broken, now.Add(-2*time.Minute))
	bad.Status, bad.Error, bad.ErrorKind = inventory.StatusError, "ssh: handshake failed: unable to authenticate", inventory.ErrKindAuth
	e.ingest(bad)
	_ = never

	body = e.get(s, "/hosts", http.StatusOK)
	row := func(name string) string {
		t.Helper()
		i := strings.Index(body, ">"+name+"</a>")
		if i < 0 {
			t.Fatalf("no row for %s\n%s", name, body)
		}
		end := strings.Index(body[i:], "</tr>")
		return body[i : i+end]
	}
	tests := []struct {
		host    string
		want    []string
		notWant []string
	}{
		{"fresh", []string{">OK<", "5 min ago", `datetime="`, "Debian GNU/Linux 12 (bookworm)", "6.1.0-18-amd64", ">1<"}, []string{"badge-stale"}},
		{"stale-one", []string{">Stale<", "badge-stale", "4 h ago"}, nil},
		{"broken", []string{">Error<", "auth: ssh: handshake failed"}, []string{"badge-stale"}},
		{"never", []string{">Never scanned<", ">never<"}, []string{"badge-stale"}},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			r := row(tt.host)
			wantContains(t, r, tt.want...)
			wantNotContains(t, r, tt.notWant...)
		})
	}
	wantContains(t, body, "4 hosts", "1 failing", "1 stale", `href="/hosts/new"`)

	filtered := e.get(s, "/hosts?q=BRO", http.StatusOK)
	wantContains(t, filtered, ">broken</a>", `value="BRO"`)
	wantNotContains(t, filtered, ">fresh</a>")
	wantContains(t, e.get(s, "/hosts?q=nothing-like-this", http.StatusOK), "No hosts match")
}

func TestHostIsolation(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	ctx := context.Background()
	other := &domain.Workspace{Name: "Other", Slug: "other", Schedule: inventory.Schedule{IntervalSeconds: 3600}}
	if err := e.svc.Store.CreateWorkspace(ctx, other); err != nil {
		t.Fatal(err)
	}
	name, addr := "secret-host", "198.51.100.7"
	h, err := e.svc.CreateHost(ctx, service.Actor{UserID: e.admin.UserID, Login: "admin", WorkspaceID: other.ID, Role: domain.RoleAdmin}, domain.HostInput{Name: &name, Address: &addr})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/hosts/%d", "/hosts/%d/packages", "/hosts/%d?q=x"} {
		body := e.get(s, fmt.Sprintf(path, h.ID), http.StatusNotFound)
		wantNotContains(t, body, name, addr)
	}
	for _, path := range []string{"/hosts/abc", "/hosts/0", "/hosts/99999"} {
		e.get(s, path, http.StatusNotFound)
	}
	wantNotContains(t, e.get(s, "/hosts", http.StatusOK), name)
}

func TestViewerReadOnly(t *testing.T) {
	e := newEnv(t)
	e.host("web-01")
	v := e.session(e.user(domain.RoleViewer))
	body := e.get(v, "/hosts", http.StatusOK)
	wantContains(t, body, ">web-01</a>", "viewer")
	wantNotContains(t, body, `href="/hosts/new"`)
	e.get(v, "/hosts/new", http.StatusForbidden)
	w := e.do(req{method: "POST", path: "/hosts", sess: v, form: withCSRF(v, url.Values{"address": {"192.0.2.1"}})})
	if w.Code != http.StatusForbidden {
		t.Errorf("viewer POST /hosts: status %d, want 403", w.Code)
	}
	body = e.get(v, "/settings/credentials", http.StatusOK)
	wantNotContains(t, body, `action="/settings/credentials/default"`)
	op := e.session(e.user(domain.RoleOperator))
	wantContains(t, e.get(op, "/hosts/new", http.StatusOK), `name="csrf_token"`, `for="address"`)
}
