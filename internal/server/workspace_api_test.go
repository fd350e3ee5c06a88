package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/server"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/store"
)

// TestWorkspaceHeader: a token acts in its own workspace unless
// X-Vigil-Workspace names another membership of its user.
func TestWorkspaceHeader(t *testing.T) {
	f := newFixture(t, server.Options{}) // admin is a member of ws1 and ws2; token1 is for ws1
	names := func(hdr map[string]string) (int, []string) {
		resp, body := f.do("GET", "/api/v1/hosts", f.token1, nil, hdr)
		var hosts []struct {
			Name string `json:"name"`
		}
		json.Unmarshal(body, &hosts)
		var out []string
		for _, h := range hosts {
			out = append(out, h.Name)
		}
		return resp.StatusCode, out
	}
	if st, got := names(nil); st != 200 || strings.Join(got, ",") != "h1" {
		t.Errorf("without header: %d %v", st, got)
	}
	if st, got := names(map[string]string{"X-Vigil-Workspace": strconv.FormatInt(f.ws2.ID, 10)}); st != 200 || strings.Join(got, ",") != "h2" {
		t.Errorf("with ws2: %d %v", st, got)
	}
	// A workspace the user is not in, and nonsense.
	ctx := context.Background()
	admin, _ := f.svc.Store.GetUserByLogin(ctx, "admin")
	ws3, err := f.svc.CreateWorkspace(ctx, service.Actor{UserID: admin.ID, Login: "admin", WorkspaceID: f.ws1.ID, Role: domain.RoleAdmin}, "Third", "third")
	if err != nil {
		t.Fatal(err)
	}
	vic := &domain.User{Login: "victor", PasswordHash: "x"}
	f.svc.Store.CreateUser(ctx, vic)
	f.svc.Store.SetMembership(ctx, domain.Membership{WorkspaceID: f.ws1.ID, UserID: vic.ID, Role: domain.RoleViewer})
	_, vtok, err := f.svc.NewAPIToken(ctx, service.Actor{UserID: vic.ID, Login: "victor", WorkspaceID: f.ws1.ID, Role: domain.RoleViewer}, "t")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tok, hdr string
		want     int
	}{
		{vtok, strconv.FormatInt(f.ws2.ID, 10), http.StatusNotFound}, // victor is not in ws2
		{vtok, strconv.FormatInt(ws3.ID, 10), http.StatusNotFound},
		{vtok, "ws2", http.StatusBadRequest},
		{vtok, "-1", http.StatusBadRequest},
		{vtok, strconv.FormatInt(f.ws1.ID, 10), http.StatusOK},
	} {
		if resp, body := f.do("GET", "/api/v1/hosts", tc.tok, nil, map[string]string{"X-Vigil-Workspace": tc.hdr}); resp.StatusCode != tc.want {
			t.Errorf("header %q: %d %s, want %d", tc.hdr, resp.StatusCode, body, tc.want)
		}
	}
	// The role follows the workspace: victor, viewer in ws1, cannot write
	// there whatever the header; the admin writes in ws2 through it.
	resp, _ := f.do("POST", "/api/v1/hosts", vtok, strings.NewReader(`{"name":"x","address":"192.0.2.1"}`),
		map[string]string{"X-Vigil-Workspace": strconv.FormatInt(f.ws1.ID, 10)})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer write: %d", resp.StatusCode)
	}
	resp, body := f.do("POST", "/api/v1/hosts", f.token1, strings.NewReader(`{"name":"via-header","address":"192.0.2.2"}`),
		map[string]string{"X-Vigil-Workspace": strconv.FormatInt(f.ws2.ID, 10)})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create via header: %d %s", resp.StatusCode, body)
	}
	a2, _ := f.svc.ActorIn(ctx, admin.ID, f.ws2.ID)
	hs, _ := f.svc.ListHosts(ctx, *a2, store.HostFilter{})
	if len(hs) != 2 {
		t.Errorf("ws2 has %d hosts, want 2", len(hs))
	}
	// /api/v1/me reports the workspace in effect.
	_, body = f.do("GET", "/api/v1/me", f.token1, nil, map[string]string{"X-Vigil-Workspace": strconv.FormatInt(f.ws2.ID, 10)})
	var me struct {
		WorkspaceID int64 `json:"workspace_id"`
		Workspaces  []struct {
			ID      int64 `json:"id"`
			Current bool  `json:"current"`
		} `json:"workspaces"`
	}
	json.Unmarshal(body, &me)
	if me.WorkspaceID != f.ws2.ID || len(me.Workspaces) != 3 {
		t.Errorf("me = %s", body)
	}
}

// TestAccountAPI: invitations, members, tokens and the audit log over the
// REST API.
func TestAccountAPI(t *testing.T) {
	f := newFixture(t, server.Options{})
	resp, body := f.do("POST", "/api/v1/invitations", f.token1, strings.NewReader(`{"role":"operator","note":"olga","valid_hours":48}`), nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("invite: %d %s", resp.StatusCode, body)
	}
	var inv struct {
		ID    int64  `json:"id"`
		Token string `json:"token"`
		Path  string `json:"path"`
		Role  string `json:"role"`
	}
	json.Unmarshal(body, &inv)
	if !strings.HasPrefix(inv.Token, "vgi_") || inv.Path != "/invite/"+inv.Token || inv.Role != "operator" {
		t.Fatalf("invitation %s", body)
	}
	_, body = f.do("GET", "/api/v1/invitations", f.token1, nil, nil)
	if strings.Contains(string(body), inv.Token) || !strings.Contains(string(body), `"note":"olga"`) {
		t.Errorf("listing shows the token or misses the note: %s", body)
	}
	olga, err := f.svc.AcceptInvitation(context.Background(), inv.Token, nil, "olga", "olga-password-1")
	if err != nil {
		t.Fatal(err)
	}
	_, body = f.do("GET", "/api/v1/members", f.token1, nil, nil)
	if !strings.Contains(string(body), `"login":"olga","role":"operator"`) {
		t.Errorf("members: %s", body)
	}
	path := "/api/v1/members/" + strconv.FormatInt(olga.UserID, 10)
	for _, tc := range []struct {
		body string
		want int
	}{{`{"role":"root"}`, 400}, {`{"role":"viewer","x":1}`, 400}, {`{"role":"viewer"}`, 204}} {
		if resp, b := f.do("PATCH", path, f.token1, strings.NewReader(tc.body), nil); resp.StatusCode != tc.want {
			t.Errorf("PATCH %s: %d %s, want %d", tc.body, resp.StatusCode, b, tc.want)
		}
	}
	resp, body = f.do("POST", "/api/v1/tokens", f.token1, strings.NewReader(`{"name":"ci"}`), nil)
	var tok struct {
		ID    int64  `json:"id"`
		Token string `json:"token"`
	}
	json.Unmarshal(body, &tok)
	if resp.StatusCode != 201 || !strings.HasPrefix(tok.Token, "vgt_") {
		t.Fatalf("token: %d %s", resp.StatusCode, body)
	}
	if resp, _ := f.do("GET", "/api/v1/me", tok.Token, nil, nil); resp.StatusCode != 200 {
		t.Errorf("new token: %d", resp.StatusCode)
	}
	if resp, _ := f.do("DELETE", "/api/v1/tokens/"+strconv.FormatInt(tok.ID, 10), f.token1, nil, nil); resp.StatusCode != 204 {
		t.Errorf("revoke: %d", resp.StatusCode)
	}
	if resp, _ := f.do("GET", "/api/v1/me", tok.Token, nil, nil); resp.StatusCode != 401 {
		t.Errorf("revoked token: %d", resp.StatusCode)
	}
	if resp, _ := f.do("DELETE", path, f.token1, nil, nil); resp.StatusCode != 204 {
		t.Errorf("remove: %d", resp.StatusCode)
	}

	resp, body = f.do("GET", "/api/v1/audit?action=member&limit=10", f.token1, nil, map[string]string{"User-Agent": "vigil-test/1"})
	if resp.StatusCode != 200 {
		t.Fatalf("audit: %d %s", resp.StatusCode, body)
	}
	var page struct {
		Total   int `json:"total"`
		Entries []struct {
			Action string          `json:"action"`
			Actor  string          `json:"actor"`
			Detail json.RawMessage `json:"detail"`
			IP     string          `json:"remote_ip"`
			UA     string          `json:"user_agent"`
		} `json:"entries"`
	}
	json.Unmarshal(body, &page)
	if page.Total != 2 || page.Entries[0].Action != "member.remove" || page.Entries[1].Action != "member.role" ||
		string(page.Entries[1].Detail) != `{"from":"operator","to":"viewer"}` || page.Entries[0].IP != "127.0.0.1" || page.Entries[0].Actor != "admin" {
		t.Errorf("audit page: %s", body)
	}
	for _, q := range []string{"limit=501", "limit=x", "offset=-1", "subject_id=abc"} {
		if resp, _ := f.do("GET", "/api/v1/audit?"+q, f.token1, nil, nil); resp.StatusCode != 400 {
			t.Errorf("audit ?%s: %d, want 400", q, resp.StatusCode)
		}
	}
}
