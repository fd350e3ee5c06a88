package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// checkFindings imports an advisory for a package installed on this machine
// and expects the scanned host to get exactly that finding, explained.
//
// The advisory is constructed at test time in the OSV format of Debian's
// records (a fictitious DSA with a fictitious CVE), naming the source
// package of bash at a fixed version just above the installed one, so the
// test holds on any Debian-family machine without a real advisory feed.
func checkFindings(t *testing.T, srv *vigilServer, token string, hostID int64) {
	t.Helper()
	out, err := exec.Command("dpkg-query", "-W", "-f=${source:Package} ${source:Version}", "bash").Output()
	if err != nil {
		t.Skipf("dpkg-query bash: %v", err)
	}
	src, ver, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	id, _ := localOS(t)
	_, release := localOS(t)
	eco := map[string]string{"debian": "Debian:" + release}[id]
	if eco == "" {
		t.Skipf("no constructed advisory for %s", id)
	}
	adv := map[string]any{
		"id": "DSA-0000-1", "aliases": []string{"CVE-2099-0042"}, "modified": "2026-01-01T00:00:00Z", "published": "2026-01-01T00:00:00Z",
		"summary": "constructed advisory for the end-to-end test",
		"affected": []any{map[string]any{
			"package": map[string]string{"ecosystem": eco, "name": src},
			"ranges":  []any{map[string]any{"type": "ECOSYSTEM", "events": []any{map[string]string{"introduced": "0"}, map[string]string{"fixed": ver + "+vigil1"}}}},
		}},
	}
	b, _ := json.Marshal(adv)
	file := filepath.Join(t.TempDir(), "DSA-0000-1.json")
	os.WriteFile(file, b, 0o600)
	args := append([]string{"feeds", "import", "--osv", file}, srv.dbArgs()...)
	if out, err := exec.Command(vigilBin, args...).CombinedOutput(); err != nil || !strings.Contains(string(out), "1 hosts re-matched") {
		t.Fatalf("feeds import: %v\n%s", err, out)
	}
	var page struct {
		Total    int `json:"total"`
		Findings []struct {
			VulnID    string `json:"vuln_id"`
			Package   string `json:"package"`
			Rule      string `json:"rule"`
			Installed string `json:"installed_version"`
			Fixed     string `json:"fixed_version"`
			HostID    int64  `json:"host_id"`
		} `json:"findings"`
	}
	if code := srv.api(t, token, "GET", fmt.Sprintf("/api/v1/findings?host_id=%d", hostID), nil, &page); code != 200 {
		t.Fatalf("findings: %d", code)
	}
	if page.Total != 1 {
		t.Fatalf("findings %+v", page)
	}
	f := page.Findings[0]
	if f.VulnID != "CVE-2099-0042" || f.Package != src || f.Installed != ver || f.Fixed != ver+"+vigil1" || !strings.Contains(f.Rule, "DSA-0000-1") {
		t.Fatalf("finding %+v", f)
	}
	req, _ := http.NewRequest("GET", srv.url+"/api/v1/findings?format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	csv, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if lines := strings.Split(strings.TrimSpace(string(csv)), "\n"); len(lines) != 2 || !strings.Contains(lines[1], "CVE-2099-0042") {
		t.Fatalf("csv export:\n%s", csv)
	}
	status, err := exec.Command(vigilBin, append([]string{"feeds", "status"}, srv.dbArgs()...)...).Output()
	if err != nil || !strings.Contains(string(status), "osv:"+eco) {
		t.Fatalf("feeds status: %v\n%s", err, status)
	}
}
