package compliance

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

func TestCompileErrorPositions(t *testing.T) {
	tests := []struct {
		expr      string
		line, col int
		msg       string
	}{
		{`items["probe:sshd"].settings.permitrootlogin ==`, 1, 48, "mismatched input"},
		{"hostname == \"web1\" &&\n  nosuch.field == 1", 2, 3, "undeclared reference to 'nosuch'"},
		{`hostname > 3`, 1, 10, "found no matching overload for '_>_'"},
		{`version_compare("1", "2")`, 1, 16, "found no matching overload for 'version_compare'"},
		{`hostname`, 1, 1, "condition must be a bool"},
		{`"a".matches("(")`, 1, 1, ""},
		{"", 1, 1, "empty expression"},
	}
	for _, tt := range tests {
		_, err := Compile(tt.expr)
		var ce *CompileError
		if !errors.As(err, &ce) {
			t.Errorf("%q: %v, want a CompileError", tt.expr, err)
			continue
		}
		is := ce.Issues[0]
		if is.Line != tt.line || is.Column != tt.col || !strings.Contains(is.Message, tt.msg) {
			t.Errorf("%q: %d:%d %q, want %d:%d ~%q", tt.expr, is.Line, is.Column, is.Message, tt.line, tt.col, tt.msg)
		}
		if !strings.HasPrefix(err.Error(), "1:") && !strings.HasPrefix(err.Error(), "2:") {
			t.Errorf("%q: error %q does not start with line:column", tt.expr, err)
		}
	}
}

func TestCompileLimits(t *testing.T) {
	long := `hostname == "` + strings.Repeat("a", MaxExpressionLen) + `"`
	deep := strings.Repeat("(", 200) + "true" + strings.Repeat(")", 200)
	wide := strings.Repeat("hostname == \"x\" || ", 1500) + "true"
	for name, expr := range map[string]string{"long": long, "deep": deep, "wide": wide} {
		if _, err := Compile(expr); err == nil {
			t.Errorf("%s expression compiled", name)
		}
	}
}

// A condition that would run for long stops at the cost limit, quickly,
// and the result says so.
func TestCostLimit(t *testing.T) {
	r := `[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19]`
	expr := r + `.all(a, ` + r + `.all(b, ` + r + `.all(c, ` + r + `.all(d, ` + r + `.all(e, a+b+c+d+e >= 0)))))`
	p, err := Compile(expr)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res := Evaluate(&Check{}, p, goodHost().facts(t))
	if res.Status != StatusError || !strings.Contains(res.Reason, "cost limit") {
		t.Errorf("%s %q", res.Status, res.Reason)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestFunctions(t *testing.T) {
	facts := goodHost().facts(t)
	tests := []struct {
		expr string
		want string // pass, fail, or an error substring
	}{
		{`version_compare(packages["openssl"], "3.0.15-1~deb12u1", package_ecosystem) == 0`, StatusPass},
		{`version_compare(packages["openssh-server"], "1:9.2p1-2+deb12u4", "deb") < 0`, StatusPass},
		{`version_compare("1.0-1.el9", "1.0-1.el9_2", "rpm") < 0`, StatusPass},
		{`version_compare("3.1.2-r0", "3.1.10-r0", "apk") < 0`, StatusPass},
		{`version_compare("1", "2", "msi") < 0`, "unknown scheme"},
		{`version_compare("1:", "2", "deb") < 0`, "invalid deb version"},
		{`int_of(" 42 ") == 42 && int_of(42) == 42 && int_of(42.0) == 42`, StatusPass},
		{`int_of("4x") == 4`, "not an integer"},
		{`int_of(items["probe:sshd"]) == 4`, "cannot convert"},
		{`duration_seconds("1m30s") == 90 && duration_seconds("2h") == 7200 && duration_seconds("45") == 45`, StatusPass},
		{`duration_seconds("m") == 0`, "not a time"},
		{`mode_at_most("0640", "0644") && !mode_at_most("0664", "0644") && mode_at_most("400", "0600")`, StatusPass},
		{`mode_at_most("rw-r--r--", "0644")`, "not an octal mode"},
		{`undetermined("cannot tell")`, "cannot tell"},
		{`labels.env == "prod" && "web" in hostname.split("1") && !("x" in hostname.split("1"))`, StatusPass},
		{`now - scanned_at < duration("1h") && os.eol_date > now`, StatusPass},
		{`memory.total_bytes > 4 * 1024 * 1024 * 1024 && uptime_seconds > 3600.5`, StatusPass},
		{`items["probe:sshd"].settings.nosuch == "x"`, "is absent"},
	}
	for _, tt := range tests {
		p, err := Compile(tt.expr)
		if err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		r := Evaluate(&Check{}, p, facts)
		if r.Status != tt.want && !(r.Status == StatusError && strings.Contains(r.Reason, tt.want)) {
			t.Errorf("%s: %s %q, want %s", tt.expr, r.Status, r.Reason, tt.want)
		}
	}
}

func TestCompileCheckNeeds(t *testing.T) {
	c := &Check{ID: "x", Title: "x", Severity: "low", Condition: `items["probe:sshd"].present`}
	if _, err := CompileCheck(c); err == nil || !strings.Contains(err.Error(), `reads item "probe:sshd"`) {
		t.Errorf("condition reading an unlisted item: %v", err)
	}
	c.Needs, _ = needsOf("probe:sshd")
	c.When = `items["probe:sysctl"]["x"] == "1"`
	if _, err := CompileCheck(c); err == nil || !strings.Contains(err.Error(), `reads item "probe:sysctl"`) {
		t.Errorf("when reading an unlisted item: %v", err)
	}
	c.When = `"probe:sshd" in items`
	p, err := CompileCheck(c)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Items(), ","); got != "probe:sshd" {
		t.Errorf("items %q", got)
	}
}

func TestReadPaths(t *testing.T) {
	p, err := Compile(`items["probe:time_sync"].services.exists(s, items["probe:time_sync"].services[s] == "active") &&
		["nodev", "nosuid"].all(o, o in mounts["/tmp"].options) && has(os.eol) && !os.eol &&
		items["probe:accounts"].users.filter(u, u.uid == 0).size() == 1`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range p.reads {
		got = append(got, r.text)
	}
	want := `items["probe:time_sync"].services|mounts["/tmp"].options|os.eol|items["probe:accounts"].users`
	if strings.Join(got, "|") != want {
		t.Errorf("reads %q\nwant %q", strings.Join(got, "|"), want)
	}
}

func needsOf(keys ...string) (out []inventory.ItemRequest, err error) {
	for _, k := range keys {
		n, err := ParseNeed(k)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}
