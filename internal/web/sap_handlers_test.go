package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/vuln/sapnotes"
)

func TestSAPPages(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin := e.session(e.admin)
	viewer := e.session(e.user(domain.RoleViewer))

	// Out of scope: no nav entry; a viewer may not switch it on.
	if body := e.get(admin, "/sap/systems", http.StatusOK); strings.Contains(body, `<a href="/sap/notes" `) || !strings.Contains(body, "SAP is not in scope") {
		t.Fatal("SAP nav shown or scope notice missing while out of scope")
	}
	if w := e.do(req{method: http.MethodPost, path: "/settings/sap", sess: viewer, form: withCSRF(viewer, url.Values{"sap_in_scope": {"on"}})}); w.Code != http.StatusForbidden {
		t.Fatalf("viewer set scope: %d", w.Code)
	}
	if w := e.do(req{method: http.MethodPost, path: "/settings/sap", sess: admin, form: withCSRF(admin, url.Values{"sap_in_scope": {"on"}})}); w.Code != http.StatusSeeOther {
		t.Fatalf("admin set scope: %d %s", w.Code, w.Body.String())
	}

	// The sample catalogue and one ABAP system on a host.
	f, err := os.Open("../vuln/sapnotes/testdata/notes_catalog.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var notes []*sapnotes.Note
	if _, err := sapnotes.Decode(f, func(n *sapnotes.Note) error { notes = append(notes, n); return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Store.UpsertSAPNotes(ctx, notes, e.svc.Now()); err != nil {
		t.Fatal(err)
	}
	h := e.host("sapprd01")
	sys := inventory.SAPSystem{SID: "PRD",
		Instances: []inventory.SAPInstance{{Name: "D00", Number: "00", Type: "abap", Host: "sapprd01"}},
		Kernel:    &inventory.SAPKernel{Release: "753", PatchLevel: "1100", Source: "disp+work -version"},
		Components: []inventory.SAPComponent{{Name: "SAP_BASIS", Release: "750", SPLevel: "0012"},
			{Name: "KERNEL", Release: "7.53", PatchLevel: "1100"}, {Name: "KRNL64UC", Release: "7.53", PatchLevel: "1100"}},
		Transport: &inventory.SAPTransport{QueueDepth: 2, FailedImports: 1},
		Sources: []inventory.SAPSource{{Name: "components", Available: true, Detail: "sapcontrol ABAPGetComponentList on D00"},
			{Name: "database", Available: false, Detail: "no database version readable without database credentials"}}}
	if err := e.svc.Store.ReplaceSAPSystems(ctx, e.ws.ID, h.ID, []inventory.SAPSystem{sys}, e.svc.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.MatchSAPHost(ctx, e.ws.ID, h.ID); err != nil {
		t.Fatal(err)
	}

	body := e.get(admin, "/sap/systems", http.StatusOK)
	for _, want := range []string{`<a href="/sap/notes" aria-current="page">SAP</a>`, "PRD", "753 patch 1100", "SAP_BASIS", "2 queued, 1 failed",
		"no database version readable without database credentials"} {
		if !strings.Contains(body, want) {
			t.Errorf("systems page lacks %q", want)
		}
	}
	unresolved := e.get(admin, "/sap/notes", http.StatusOK)
	if !strings.Contains(unresolved, "note-3754659") || strings.Contains(unresolved, "note-3747367") {
		t.Error("unresolved tab: want 3754659 (SAP_BASIS 750), not the manual review 3747367")
	}
	review := e.get(viewer, "/sap/notes?tab=manual_review", http.StatusOK)
	if !strings.Contains(review, "note-3747367") || !strings.Contains(review, "could not be parsed") || strings.Contains(review, "Resolve</button>") {
		t.Error("manual review tab: want 3747367 with its reason and no resolve form for a viewer")
	}

	// Resolving needs a reason; with one, the note moves to Resolved.
	if w := e.do(req{method: http.MethodPost, path: "/sap/notes/3754659/resolve", sess: admin, form: withCSRF(admin, url.Values{"tab": {"unresolved"}})}); w.Code != http.StatusBadRequest {
		t.Fatalf("resolve without reason: %d", w.Code)
	}
	if w := e.do(req{method: http.MethodPost, path: "/sap/notes/3754659/resolve", sess: viewer, form: withCSRF(viewer, url.Values{"reason": {"x"}})}); w.Code != http.StatusForbidden {
		t.Fatalf("viewer resolve: %d", w.Code)
	}
	w := e.do(req{method: http.MethodPost, path: "/sap/notes/3754659/resolve", sess: admin, form: withCSRF(admin, url.Values{"reason": {"implemented with SNOTE"}, "tab": {"unresolved"}})})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("resolve: %d %s", w.Code, w.Body.String())
	}
	resolved := e.get(admin, "/sap/notes?tab=resolved", http.StatusOK)
	if !strings.Contains(resolved, "note-3754659") || !strings.Contains(resolved, "implemented with SNOTE") {
		t.Error("resolved tab lacks the note resolved by hand and its reason")
	}
	if w := e.do(req{method: http.MethodPost, path: "/sap/notes/3754659/delete", sess: admin, form: withCSRF(admin, nil)}); w.Code != http.StatusNotFound {
		t.Fatalf("unknown action: %d", w.Code)
	}
}

// TestSAPDBLoginSettings: an operator adds a database login with a typed
// user and password (it becomes a credential) or with a stored credential;
// the page lists them without secrets; bad input is a form message; a
// viewer may do neither.
func TestSAPDBLoginSettings(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	operator := e.session(e.user(domain.RoleOperator))
	viewer := e.session(e.user(domain.RoleViewer))
	post := func(sess session, path string, form url.Values) *httptest.ResponseRecorder {
		return e.do(req{method: http.MethodPost, path: path, sess: sess, form: withCSRF(sess, form)})
	}
	const secret = "Hana-RO-pw-1"
	if w := post(operator, "/settings/sap/db-logins", url.Values{"sid": {"prd"}, "username": {"VIGIL_RO"}, "password": {secret},
		"database": {"PRD"}, "schema": {"SAPHANADB"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("add typed login: %d %s", w.Code, w.Body.String())
	}
	logins, err := e.svc.Store.ListSAPDBLogins(ctx, e.ws.ID)
	if err != nil || len(logins) != 1 || logins[0].SID != "PRD" || logins[0].CredentialName != "sap-db-prd" || logins[0].Schema != "SAPHANADB" {
		t.Fatalf("logins = %+v %v", logins, err)
	}
	body := e.get(viewer, "/settings/sap", http.StatusOK)
	for _, want := range []string{`id="sap-db-logins"`, "sap-db-prd", "SAPHANADB"} {
		if !strings.Contains(body, want) {
			t.Errorf("settings page lacks %q", want)
		}
	}
	if strings.Contains(body, secret) || strings.Contains(body, "Add a database login") || strings.Contains(body, "/delete") {
		t.Error("viewer sees the secret or the forms")
	}

	// A stored credential for every other system.
	if w := post(operator, "/settings/sap/db-logins", url.Values{"credential_id": {"999999"}}); w.Code != http.StatusUnprocessableEntity ||
		!strings.Contains(w.Body.String(), "credential 999999 not found") {
		t.Fatalf("unknown credential: %d", w.Code)
	}
	cred, err := e.svc.Store.GetCredential(ctx, e.ws.ID, logins[0].CredentialID)
	if err != nil {
		t.Fatal(err)
	}
	if w := post(operator, "/settings/sap/db-logins", url.Values{"credential_id": {strconv.FormatInt(cred.ID, 10)}, "address": {"hana01:30015"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("add stored login: %d %s", w.Code, w.Body.String())
	}
	// Refusals are form messages; a refused typed login leaves no credential behind.
	creds0, _ := e.svc.Store.ListCredentials(ctx, e.ws.ID)
	for _, tc := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"sid": {"PRD"}, "username": {"X"}, "password": {"y"}}, "exists already"},
		{url.Values{"sid": {"PR"}, "username": {"X"}, "password": {"y"}}, "not an SAP system ID"},
		{url.Values{"sid": {"QAS"}, "username": {"X"}, "password": {"y"}, "address": {"db;reboot"}}, "address"},
		{url.Values{"sid": {"QAS"}}, "give a username and a password"},
	} {
		w := post(operator, "/settings/sap/db-logins", tc.form)
		if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), tc.want) {
			t.Errorf("%v: %d, want 422 with %q", tc.form, w.Code, tc.want)
		}
	}
	if creds1, _ := e.svc.Store.ListCredentials(ctx, e.ws.ID); len(creds1) != len(creds0) {
		t.Errorf("refused logins left credentials: %d → %d", len(creds0), len(creds1))
	}
	if w := post(viewer, "/settings/sap/db-logins", url.Values{"sid": {"QAS"}, "username": {"X"}, "password": {"y"}}); w.Code != http.StatusForbidden {
		t.Errorf("viewer add: %d", w.Code)
	}
	logins, _ = e.svc.Store.ListSAPDBLogins(ctx, e.ws.ID)
	if len(logins) != 2 {
		t.Fatalf("logins = %+v", logins)
	}
	if w := post(viewer, "/settings/sap/db-logins/"+strconv.FormatInt(logins[0].ID, 10)+"/delete", nil); w.Code != http.StatusForbidden {
		t.Errorf("viewer delete: %d", w.Code)
	}
	if w := post(operator, "/settings/sap/db-logins/"+strconv.FormatInt(logins[0].ID, 10)+"/delete", nil); w.Code != http.StatusSeeOther {
		t.Errorf("operator delete: %d", w.Code)
	}
	if logins, _ = e.svc.Store.ListSAPDBLogins(ctx, e.ws.ID); len(logins) != 1 || logins[0].SID != "" {
		t.Fatalf("after delete: %+v", logins)
	}
}
