package nvd

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/vuln"
)

// recordFiles returns the 39 real NVD records in testdata/records, sorted.
func recordFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/records/CVE-*.json")
	if err != nil || len(files) != 39 {
		t.Fatalf("want 39 records in testdata/records, got %d (%v)", len(files), err)
	}
	sort.Strings(files)
	return files
}

func decodeFile(t testing.TB, path string) *vuln.CVE {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := DecodeRecord(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

// Expected values were read from the record files independently of this
// package (with Python's json module): status, number of scores, the score
// vuln.CVE.BestCVSS picks, CWEs in order of first appearance without NVD's
// placeholders, configurations, and distinct reference URLs.
var recordWant = []struct {
	id, status string
	metrics    int
	bestVer    string
	bestScore  float64
	bestSev    string
	cwes       []string
	configs    int
	refs       int
}{
	{"CVE-2014-6271", "Deferred", 3, "3.1", 9.8, "CRITICAL", []string{"CWE-78"}, 26, 170},
	{"CVE-2019-0190", "Modified", 2, "3.1", 7.5, "HIGH", nil, 2, 20},
	// Two secondary v3.1 scores (Microsoft 5.5, NVD 10.0): the higher wins.
	{"CVE-2020-1472", "Modified", 3, "3.1", 10.0, "CRITICAL", nil, 8, 17},
	{"CVE-2020-6287", "Modified", 3, "3.1", 10.0, "CRITICAL", []string{"CWE-306"}, 1, 5},
	{"CVE-2021-23017", "Modified", 2, "3.1", 7.7, "HIGH", []string{"CWE-193"}, 5, 14},
	{"CVE-2021-3156", "Modified", 3, "3.1", 7.8, "HIGH", []string{"CWE-193"}, 15, 34},
	{"CVE-2021-34527", "Modified", 3, "3.1", 8.8, "HIGH", nil, 1, 4},
	{"CVE-2021-4034", "Modified", 3, "3.1", 7.8, "HIGH", []string{"CWE-787", "CWE-125"}, 8, 12},
	{"CVE-2021-41773", "Analyzed", 2, "3.1", 7.5, "HIGH", []string{"CWE-22"}, 4, 29},
	{"CVE-2021-44142", "Modified", 3, "3.1", 8.8, "HIGH", []string{"CWE-125", "CWE-787"}, 6, 6},
	{"CVE-2021-44228", "Analyzed", 3, "3.1", 10.0, "CRITICAL", []string{"CWE-20", "CWE-400", "CWE-502", "CWE-917"}, 20, 51},
	{"CVE-2022-0543", "Modified", 3, "3.1", 10.0, "CRITICAL", []string{"CWE-862"}, 1, 6},
	{"CVE-2022-0847", "Modified", 3, "3.1", 7.8, "HIGH", []string{"CWE-665"}, 16, 10},
	{"CVE-2022-22536", "Modified", 3, "3.1", 10.0, "CRITICAL", []string{"CWE-444"}, 1, 2},
	{"CVE-2022-3602", "Modified", 2, "3.1", 7.5, "HIGH", []string{"CWE-787"}, 5, 42},
	{"CVE-2023-0286", "Modified", 2, "3.1", 7.4, "HIGH", []string{"CWE-843"}, 2, 7},
	{"CVE-2023-22809", "Modified", 1, "3.1", 7.8, "HIGH", []string{"CWE-269"}, 3, 10},
	{"CVE-2023-32681", "Modified", 2, "3.1", 6.1, "MEDIUM", []string{"CWE-200"}, 2, 6},
	{"CVE-2023-36884", "Awaiting Analysis", 1, "3.1", 0.0, "NONE", nil, 0, 1},
	{"CVE-2023-38545", "Analyzed", 1, "3.1", 9.8, "CRITICAL", []string{"CWE-787"}, 3, 4},
	{"CVE-2023-38831", "Modified", 2, "3.1", 7.8, "HIGH", []string{"CWE-345", "CWE-351"}, 1, 5},
	{"CVE-2023-43804", "Analyzed", 2, "3.1", 8.1, "HIGH", []string{"CWE-200"}, 2, 4},
	{"CVE-2023-4863", "Modified", 1, "3.1", 8.8, "HIGH", []string{"CWE-787"}, 6, 41},
	{"CVE-2023-48795", "Awaiting Analysis", 0, "", 0, "", nil, 0, 74},
	{"CVE-2023-4911", "Awaiting Analysis", 1, "3.1", 7.8, "HIGH", nil, 0, 7},
	{"CVE-2024-1086", "Undergoing Analysis", 2, "3.1", 7.8, "HIGH", []string{"CWE-416"}, 7, 15},
	{"CVE-2024-10979", "Awaiting Analysis", 1, "3.1", 8.8, "HIGH", []string{"CWE-15"}, 0, 3},
	{"CVE-2024-11477", "Modified", 2, "3.1", 7.8, "HIGH", []string{"CWE-191"}, 1, 2},
	{"CVE-2024-21412", "Analyzed", 1, "3.1", 8.1, "HIGH", []string{"CWE-693"}, 1, 2},
	{"CVE-2024-21626", "Modified", 3, "3.1", 8.6, "HIGH", []string{"CWE-403", "CWE-668", "CWE-200"}, 2, 40},
	{"CVE-2024-22195", "Modified", 2, "3.1", 6.1, "MEDIUM", []string{"CWE-79"}, 1, 4},
	{"CVE-2024-3094", "Modified", 2, "3.1", 10.0, "CRITICAL", []string{"CWE-506"}, 1, 54},
	{"CVE-2024-31497", "Awaiting Analysis", 0, "", 0, "", nil, 0, 20},
	{"CVE-2024-32002", "Analyzed", 2, "3.1", 9.0, "CRITICAL", []string{"CWE-59", "CWE-22", "CWE-434"}, 1, 4},
	{"CVE-2024-38063", "Analyzed", 1, "3.1", 9.8, "CRITICAL", []string{"CWE-191"}, 1, 1},
	{"CVE-2024-5535", "Awaiting Analysis", 1, "3.1", 9.1, "CRITICAL", []string{"CWE-125"}, 0, 15},
	{"CVE-2024-6387", "Modified", 2, "3.1", 8.1, "HIGH", []string{"CWE-362", "CWE-364"}, 9, 50},
	{"CVE-2024-9680", "Received", 1, "3.1", 9.8, "CRITICAL", []string{"CWE-416"}, 0, 2},
	{"CVE-2025-31324", "Modified", 2, "3.1", 9.8, "CRITICAL", []string{"CWE-434"}, 1, 5},
}

func TestEveryRecordDecodes(t *testing.T) {
	files := recordFiles(t)
	if len(files) != len(recordWant) {
		t.Fatalf("%d files, %d expectations", len(files), len(recordWant))
	}
	for i, f := range files {
		w := recordWant[i]
		c := decodeFile(t, f)
		if c.ID != w.id || filepath.Base(f) != w.id+".json" {
			t.Fatalf("%s: id %s, want %s", f, c.ID, w.id)
		}
		if c.Status != w.status || len(c.Metrics) != w.metrics || len(c.Configurations) != w.configs || len(c.References) != w.refs {
			t.Errorf("%s: status %q metrics %d configs %d refs %d, want %q %d %d %d", w.id,
				c.Status, len(c.Metrics), len(c.Configurations), len(c.References), w.status, w.metrics, w.configs, w.refs)
		}
		if !reflect.DeepEqual(c.CWEs, w.cwes) {
			t.Errorf("%s: CWEs %v, want %v", w.id, c.CWEs, w.cwes)
		}
		best := c.BestCVSS()
		switch {
		case w.bestVer == "" && best != nil:
			t.Errorf("%s: best %+v, want none", w.id, best)
		case w.bestVer != "" && (best == nil || best.Version != w.bestVer || best.Score != w.bestScore || best.Severity != w.bestSev):
			t.Errorf("%s: best %+v, want %s %.1f %s", w.id, best, w.bestVer, w.bestScore, w.bestSev)
		}
		if c.Description == "" || c.Published.IsZero() || c.Modified.Before(c.Published) {
			t.Errorf("%s: description %q published %v modified %v", w.id, c.Description, c.Published, c.Modified)
		}
	}
}

func TestLog4ShellRecord(t *testing.T) {
	c := decodeFile(t, "testdata/records/CVE-2021-44228.json")
	if want := time.Date(2021, 12, 10, 10, 15, 9, 143e6, time.UTC); !c.Published.Equal(want) || c.Published.Location() != time.UTC {
		t.Errorf("published %v, want %v (no zone in NVD means UTC)", c.Published, want)
	}
	if want := time.Date(2025, 4, 3, 20, 53, 22, 977e6, time.UTC); !c.Modified.Equal(want) {
		t.Errorf("modified %v, want %v", c.Modified, want)
	}
	if !strings.HasPrefix(c.Description, "Apache Log4j2 2.0-beta9 through 2.15.0") {
		t.Errorf("description is not the English one: %.60q", c.Description)
	}
	want := []vuln.CVSS{
		{Version: "3.1", Source: "nvd@nist.gov", Type: "Primary", Score: 10, Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", Severity: "CRITICAL"},
		{Version: "3.1", Source: "134c704f-9b21-4f2e-91b3-4a467353bcc0", Type: "Secondary", Score: 10, Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", Severity: "CRITICAL"},
		// v2 keeps its severity outside cvssData.
		{Version: "2.0", Source: "nvd@nist.gov", Type: "Primary", Score: 9.3, Vector: "AV:N/AC:M/Au:N/C:C/I:C/A:C", Severity: "HIGH"},
	}
	if !reflect.DeepEqual(c.Metrics, want) {
		t.Errorf("metrics\n got %+v\nwant %+v", c.Metrics, want)
	}
	if b := c.BestCVSS(); b.Version != "3.1" || b.Score != 10 || b.Severity != "CRITICAL" || b.Type != "Primary" {
		t.Errorf("best %+v", b)
	}
	if r := c.References[0]; r.URL != "http://packetstormsecurity.com/files/165225/Apache-Log4j2-2.14.1-Remote-Code-Execution.html" ||
		r.Source != "security@apache.org" || !reflect.DeepEqual(r.Tags, []string{"Third Party Advisory", "VDB Entry"}) {
		t.Errorf("first reference %+v", r)
	}
	// The log4j configuration: one OR node with three ranges and the four
	// 2.0 pre-releases as concrete versions.
	var log4j *vuln.Node
	for i := range c.Configurations {
		for j := range c.Configurations[i].Nodes {
			if n := &c.Configurations[i].Nodes[j]; strings.Contains(n.Matches[0].Criteria, ":apache:log4j:") {
				log4j = n
			}
		}
	}
	if log4j == nil || len(log4j.Matches) != 7 {
		t.Fatalf("log4j node %+v", log4j)
	}
	if m := log4j.Matches[0]; m.VersionStartIncluding != "2.0.1" || m.VersionEndExcluding != "2.3.1" || !m.Vulnerable || m.MatchCriteriaID == "" {
		t.Errorf("first log4j range %+v", m)
	}
	if m := log4j.Matches[4]; m.Criteria != "cpe:2.3:a:apache:log4j:2.0:beta9:*:*:*:*:*:*" {
		t.Errorf("beta9 criteria %+v", m)
	}
}

func TestApacheWithOpenSSLConfiguration(t *testing.T) {
	c := decodeFile(t, "testdata/records/CVE-2019-0190.json")
	want := vuln.Configuration{Operator: "AND", Nodes: []vuln.Node{
		{Operator: "OR", Matches: []vuln.CPEMatch{{Vulnerable: true, Criteria: "cpe:2.3:a:apache:http_server:2.4.37:*:*:*:*:*:*:*", MatchCriteriaID: "DE5F8320-A680-4E2F-B32F-F7DBEED09ED6"}}},
		{Operator: "OR", Matches: []vuln.CPEMatch{{Vulnerable: false, Criteria: "cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*", VersionStartIncluding: "1.1.1"}}},
	}}
	got := c.Configurations[0]
	got.Nodes[1].Matches[0].MatchCriteriaID = "" // not checked: long and uninteresting
	if !reflect.DeepEqual(got, want) {
		t.Errorf("configuration 0\n got %+v\nwant %+v", got, want)
	}
	if c.Configurations[1].Operator != "" || len(c.Configurations[1].Nodes[0].Matches) != 8 {
		t.Errorf("configuration 1 %+v", c.Configurations[1])
	}
	if len(c.CWEs) != 0 {
		t.Errorf("NVD-CWE-noinfo must not become a CWE: %v", c.CWEs)
	}
}

func TestRecordsWithoutAnalysis(t *testing.T) {
	c := decodeFile(t, "testdata/records/CVE-2023-48795.json")
	if c.Configurations != nil || len(c.Metrics) != 0 || c.Status != "Awaiting Analysis" {
		t.Errorf("CVE-2023-48795: configurations %v metrics %v status %q", c.Configurations, c.Metrics, c.Status)
	}
	// References repeated per submitting source are merged, tags united.
	b := decodeFile(t, "testdata/records/CVE-2014-6271.json")
	seen := map[string]bool{}
	for _, r := range b.References {
		if seen[r.URL] {
			t.Fatalf("duplicate reference %s", r.URL)
		}
		seen[r.URL] = true
	}
}
