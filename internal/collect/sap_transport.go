package collect

import (
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/vigil-project/vigil/internal/inventory"
)

// requestRE is a transport request ID: the source SID, K, six digits
// (DEVK900123).
var requestRE = regexp.MustCompile(`\b([A-Z][A-Z0-9]{2}K\d{6})\b`)

// ParseTPBuffer returns the requests in a tp import buffer file
// (/usr/sap/trans/buffer/<SID>), once each, in file order. Each buffer
// line starts with the request ID; the columns after it (steps, flags,
// client) vary between tp versions and are not needed for the count.
func ParseTPBuffer(b []byte) []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimLeft(l, " \t")
		if l == "" || l[0] == '#' {
			continue
		}
		m := requestRE.FindStringSubmatch(l)
		if m == nil || !strings.HasPrefix(l, m[1]) {
			continue
		}
		if !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	return out
}

var (
	tsRE = regexp.MustCompile(`\b(20\d{12})\b`)
	rcRE = regexp.MustCompile(`\b(\d{4})\b`)
)

// ParseTPLog reads import steps of one SID from tp's action log (ALOG):
// lines that name a request, the target SID, a four-digit return code and
// a yyyymmddhhmmss time. Lines of other systems or without all four are
// skipped.
func ParseTPLog(b []byte, sid string) []inventory.SAPImport {
	var out []inventory.SAPImport
	for _, l := range strings.Split(string(b), "\n") {
		req := requestRE.FindStringSubmatch(l)
		ts := tsRE.FindStringSubmatchIndex(l)
		if req == nil || ts == nil || !strings.Contains(" "+l+" ", " "+sid+" ") {
			continue
		}
		// The return code is the four-digit field before the time.
		rcs := rcRE.FindAllStringSubmatch(l[:ts[0]], -1)
		if len(rcs) == 0 {
			continue
		}
		rc, err := strconv.Atoi(rcs[len(rcs)-1][1])
		if err != nil {
			continue
		}
		out = append(out, inventory.SAPImport{Request: req[1], At: l[ts[2]:ts[3]], ReturnCode: rc, Status: importStatus(rc)})
	}
	return out
}

func importStatus(rc int) string {
	switch {
	case rc == 0:
		return "ok"
	case rc < 8:
		return "warning"
	case rc < 12:
		return "error"
	}
	return "fatal"
}

// transportState sums up a SID's buffer and import log: a buffered
// request without an import step in the logs read is queued; a request
// whose latest import ended with 8 or more failed.
func transportState(buffer []string, steps []inventory.SAPImport) *inventory.SAPTransport {
	t := &inventory.SAPTransport{Dir: "/usr/sap/trans", Source: "buffer"}
	latest := map[string]inventory.SAPImport{}
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].At < steps[j].At })
	for _, s := range steps {
		cur, ok := latest[s.Request]
		// Steps of one import share its time; the worst step decides.
		if !ok || s.At > cur.At || (s.At == cur.At && s.ReturnCode > cur.ReturnCode) {
			latest[s.Request] = s
		}
	}
	if len(steps) > 0 {
		t.Source = "buffer and ALOG"
	}
	for _, r := range buffer {
		if _, ok := latest[r]; !ok {
			t.QueueDepth++
		}
	}
	var last *inventory.SAPImport
	for _, s := range latest {
		if s.ReturnCode >= 8 {
			t.FailedImports++
		}
		if last == nil || s.At > last.At || (s.At == last.At && s.Request > last.Request) {
			c := s
			last = &c
		}
	}
	t.LastImport = last
	return t
}
