package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/domain"
)

func TestAuditPage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := range 120 {
		e.svc.Audit(ctx, e.admin, "host.update", "host", int64(i+1), map[string]string{"name": fmt.Sprintf("h-%03d", i)})
	}
	e.svc.Audit(ctx, e.admin, "credential.default", "credential", 7, map[string]string{"name": "<script>alert(1)</script>"})
	s := e.session(e.admin) // audited too: 122 entries

	body := e.get(s, "/audit", http.StatusOK)
	wantContains(t, body, "Entries 1–50 of 122", "credential.default", `href="/audit?page=2" rel="next"`, `<a href="/hosts/120">#120</a>`)
	wantNotContains(t, body, "<script>alert(1)", `rel="prev"`)
	body = e.get(s, "/audit?page=3", http.StatusOK)
	wantContains(t, body, "Entries 101–122 of 122", `href="/audit?page=2" rel="prev"`, "h-000")
	wantNotContains(t, body, `rel="next"`)
	body = e.get(s, "/audit?action=credential", http.StatusOK)
	wantContains(t, body, "Entries 1–1 of 1", `\u003cscript\u003e`)
	body = e.get(s, "/audit?subject_type=host&subject_id=5&actor=admin", http.StatusOK)
	wantContains(t, body, "Entries 1–1 of 1", "h-004")
	body = e.get(s, "/audit?actor=nobody", http.StatusOK)
	wantContains(t, body, "No entries match this filter")

	for _, role := range []string{domain.RoleOperator, domain.RoleViewer} {
		if body := e.get(e.session(e.user(role)), "/audit", http.StatusForbidden); !strings.Contains(body, "Not allowed") {
			t.Errorf("%s: %s", role, body)
		}
	}
}
