package web

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/service"
)

func TestHostConnectionForm(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	h := e.host("web-01")
	const secret = "bastion-pw-never-shown"
	pw := secret
	bastionCred, err := e.svc.CreateCredential(context.Background(), e.admin, service.CredentialInput{Name: "bastion", Username: "jumper", Password: &pw})
	if err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/hosts/%d/connection", h.ID)
	page := e.get(s, fmt.Sprintf("/hosts/%d", h.ID), http.StatusOK)
	wantContains(t, page, `href="`+path+`"`)
	page = e.get(s, path, http.StatusOK)
	wantContains(t, page, `name="sudo"`, `name="legacy_algorithms"`, `name="jump_address"`, `name="jump_port"`, "bastion (jumper)", "Same login as this host")

	key, fp := hostKey(t)
	post := func(form url.Values) *http.Response {
		w := e.do(req{method: "POST", path: path, form: withCSRF(s, form), sess: s})
		return w.Result()
	}
	stored := func() domain.HostOptions {
		got, err := e.svc.GetHost(context.Background(), e.admin, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Options
	}
	cid := fmt.Sprint(bastionCred.ID)

	if r := post(url.Values{"sudo": {"1"}, "legacy_algorithms": {"1"}, "jump_address": {"bastion.example"}, "jump_port": {"2200"}, "jump_credential": {cid}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", r.StatusCode)
	}
	o := stored()
	if !o.Sudo || !o.LegacyAlgorithms || o.Jump == nil || o.Jump.Address != "bastion.example" || o.Jump.Port != 2200 || o.Jump.CredentialID == nil || *o.Jump.CredentialID != bastionCred.ID {
		t.Fatalf("stored options %+v jump %+v", o, o.Jump)
	}
	// The first scan pins the bastion's key; saving the same bastion keeps it.
	got, _ := e.svc.Store.GetHost(context.Background(), e.ws.ID, h.ID)
	got.Options.Jump.HostKey = key
	if err := e.svc.Store.UpdateHost(context.Background(), got); err != nil {
		t.Fatal(err)
	}
	page = e.get(s, path+"?saved=1", http.StatusOK)
	// html/template writes "+" as &#43;.
	wantContains(t, html.UnescapeString(page), "Connection options saved", fp, "(pinned)", `name="reset_jump_key"`)
	if strings.Contains(page, secret) {
		t.Fatal("the page shows a credential secret")
	}
	post(url.Values{"jump_address": {"bastion.example"}, "jump_port": {"2200"}, "jump_credential": {cid}})
	if o := stored(); o.Jump.HostKey != key || o.Sudo || o.LegacyAlgorithms {
		t.Fatalf("same bastion: %+v %+v", o, o.Jump)
	}
	post(url.Values{"jump_address": {"bastion.example"}, "jump_port": {"2200"}, "reset_jump_key": {"1"}})
	if o := stored(); o.Jump.HostKey != "" {
		t.Fatalf("reset asked, key kept: %+v", o.Jump)
	}
	// Another bastion is pinned afresh.
	post(url.Values{"jump_address": {"bastion2.example"}, "jump_port": {"2200"}})
	if o := stored(); o.Jump.HostKey != "" || o.Jump.CredentialID != nil {
		t.Fatalf("new bastion kept the old key or login: %+v", o.Jump)
	}
	// No address: no jump host.
	post(url.Values{"sudo": {"1"}})
	if o := stored(); o.Jump != nil || !o.Sudo {
		t.Fatalf("cleared: %+v", o)
	}

	bad := []struct {
		form url.Values
		want string
	}{
		{url.Values{"jump_address": {"bastion.example"}, "jump_port": {"70000"}}, "between 1 and 65535"},
		{url.Values{"jump_address": {"user@bastion"}}, "options.jump.address"},
		{url.Values{"jump_address": {"bastion.example"}, "jump_credential": {"999999"}}, "no credential 999999"},
	}
	for _, b := range bad {
		w := e.do(req{method: "POST", path: path, form: withCSRF(s, b.form), sess: s})
		if w.Code == http.StatusSeeOther || !strings.Contains(w.Body.String(), b.want) {
			t.Errorf("form %v: status %d, body lacks %q", b.form, w.Code, b.want)
		}
	}

	viewer := e.session(e.user(domain.RoleViewer))
	page = e.get(viewer, path, http.StatusOK)
	wantContains(t, page, "can view these options but not change them")
	w := e.do(req{method: "POST", path: path, form: withCSRF(viewer, url.Values{"sudo": {"1"}}), sess: viewer})
	if w.Code != http.StatusForbidden {
		t.Errorf("viewer saved options: %d", w.Code)
	}
}
