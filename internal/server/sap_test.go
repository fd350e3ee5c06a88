package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/server"
	"github.com/vigil-project/vigil/internal/vuln/sapnotes"
)

func TestSAPAPI(t *testing.T) {
	f := newFixture(t, server.Options{})
	ctx := context.Background()
	js := func(s string) *strings.Reader { return strings.NewReader(s) }
	ctype := map[string]string{"Content-Type": "application/json"}

	resp, body := f.do("PUT", "/api/v1/sap/scope", f.token1, js(`{"sap_in_scope": true}`), ctype)
	if resp.StatusCode != 200 {
		t.Fatalf("set scope: %d %s", resp.StatusCode, body)
	}
	note := &sapnotes.Note{Number: "3000001", Title: "Missing authorization check", Priority: sapnotes.PriorityHigh, CVSSScore: 7.1,
		CVEs: []string{"CVE-2026-1111"}, Affected: []sapnotes.Affected{{Component: "SAP_BASIS", Versions: []string{"750"}}}}
	if _, err := f.svc.Store.UpsertSAPNotes(ctx, []*sapnotes.Note{note}, f.svc.Now()); err != nil {
		t.Fatal(err)
	}
	sys := inventory.SAPSystem{SID: "PRD", Components: []inventory.SAPComponent{{Name: "SAP_BASIS", Release: "750"}},
		Sources: []inventory.SAPSource{{Name: "components", Available: true}}}
	if err := f.svc.Store.ReplaceSAPSystems(ctx, f.ws1.ID, f.host1.ID, []inventory.SAPSystem{sys}, f.svc.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.MatchSAPHost(ctx, f.ws1.ID, f.host1.ID); err != nil {
		t.Fatal(err)
	}

	var systems []map[string]any
	resp, body = f.do("GET", "/api/v1/sap/systems", f.token1, nil, nil)
	if json.Unmarshal(body, &systems); resp.StatusCode != 200 || len(systems) != 1 || systems[0]["sid"] != "PRD" || systems[0]["host_name"] != "h1" {
		t.Fatalf("systems: %d %s", resp.StatusCode, body)
	}
	var notes []struct {
		Number  string   `json:"number"`
		Status  string   `json:"status"`
		Systems []string `json:"systems"`
		CVEInfo []struct {
			ID string `json:"id"`
		} `json:"cve_info"`
	}
	resp, body = f.do("GET", "/api/v1/sap/notes?status=unresolved", f.token1, nil, nil)
	if json.Unmarshal(body, &notes); resp.StatusCode != 200 || len(notes) != 1 || notes[0].Number != "3000001" ||
		notes[0].Systems[0] != "PRD on h1" || notes[0].CVEInfo[0].ID != "CVE-2026-1111" {
		t.Fatalf("notes: %d %s", resp.StatusCode, body)
	}
	for _, tc := range []struct {
		method, path, body string
		want               int
	}{
		{"GET", "/api/v1/sap/notes?status=open", "", 400},
		{"POST", "/api/v1/sap/notes/3000001/resolve", `{"reason": ""}`, 400},
		{"POST", "/api/v1/sap/notes/12ab/resolve", `{"reason": "x"}`, 400},
		{"POST", "/api/v1/sap/notes/3999999/resolve", `{"reason": "x"}`, 404},
		{"POST", "/api/v1/sap/notes/3000001/resolve", `{"reason": "implemented", "surprise": 1}`, 400},
		{"POST", "/api/v1/sap/notes/3000001/resolve", `{"reason": "implemented with SNOTE"}`, 200},
	} {
		resp, body := f.do(tc.method, tc.path, f.token1, js(tc.body), ctype)
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s %s: %d %s, want %d", tc.method, tc.path, tc.body, resp.StatusCode, body, tc.want)
		}
	}
	resp, body = f.do("GET", "/api/v1/sap/notes?status=resolved", f.token1, nil, nil)
	if json.Unmarshal(body, &notes); len(notes) != 1 || notes[0].Status != "resolved" {
		t.Fatalf("resolved: %s", body)
	}
	resp, body = f.do("DELETE", "/api/v1/sap/notes/3000001/resolve", f.token1, nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("reopen: %d %s", resp.StatusCode, body)
	}
	resp, body = f.do("GET", "/api/v1/sap/notes?status=unresolved", f.token1, nil, nil)
	if json.Unmarshal(body, &notes); len(notes) != 1 {
		t.Fatalf("after reopen: %s", body)
	}

	// A viewer reads but may neither resolve nor change the scope; the
	// other workspace sees nothing of this one.
	viewer := &domain.User{Login: "viewer-sap", PasswordHash: "x"}
	if err := f.svc.Store.CreateUser(ctx, viewer); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Store.SetMembership(ctx, domain.Membership{WorkspaceID: f.ws1.ID, UserID: viewer.ID, Role: domain.RoleViewer}); err != nil {
		t.Fatal(err)
	}
	vtok, err := f.svc.CreateAPIToken(ctx, f.ws1.ID, viewer.ID, "v")
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := f.do("GET", "/api/v1/sap/notes", vtok, nil, nil); resp.StatusCode != 200 {
		t.Errorf("viewer read: %d", resp.StatusCode)
	}
	if resp, _ := f.do("POST", "/api/v1/sap/notes/3000001/resolve", vtok, js(`{"reason": "x"}`), ctype); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer resolve: %d", resp.StatusCode)
	}
	if resp, _ := f.do("PUT", "/api/v1/sap/scope", vtok, js(`{"sap_in_scope": false}`), ctype); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer scope: %d", resp.StatusCode)
	}
}
