package compliance

import (
	"reflect"
	"strings"
	"testing"
)

// Builder -> CEL -> Compile -> Evaluate, on the good host.
func TestRuleRoundTrip(t *testing.T) {
	h := goodHost()
	h.labels["note"] = `he said "hi" \ bye` + "\n\ttab é \u200b"
	h.labels["dotted.key"] = "v"
	facts := h.facts(t)
	tests := []struct {
		rule Rule
		want string
	}{
		{Rule{Property: "items.probe:sshd.settings.permitrootlogin", Operator: "eq", Value: "no"}, StatusPass},
		{Rule{Property: "items.probe:sshd.settings.permitrootlogin", Operator: "ne", Value: "no"}, StatusFail},
		{Rule{Property: `labels.note`, Operator: "eq", Value: `he said "hi" \ bye` + "\n\ttab é \u200b"}, StatusPass},
		{Rule{Property: `labels."dotted.key"`, Operator: "eq", Value: "v"}, StatusPass},
		{Rule{Property: `items.probe:sysctl."net.ipv4.ip_forward"`, Operator: "eq", Value: "0"}, StatusPass},
		{Rule{Property: `items."file_meta:/etc/shadow".mode`, Operator: "eq", Value: "0640"}, StatusPass},
		{Rule{Property: `items."file_meta:/etc/shadow".uid`, Operator: "eq", Value: "0"}, StatusPass},
		{Rule{Property: "items.probe:sshd.settings.maxauthtries", Operator: "le", Value: "4"}, StatusPass},
		{Rule{Property: "items.probe:sshd.settings.maxauthtries", Operator: "gt", Value: "4"}, StatusFail},
		{Rule{Property: "items.probe:sshd.settings.allowusers", Operator: "contains", Value: "bob"}, StatusPass},
		{Rule{Property: "items.probe:time_sync.active", Operator: "contains", Value: "chrony"}, StatusPass},
		{Rule{Property: "items.probe:time_sync.services", Operator: "contains", Value: "chronyd"}, StatusPass},
		{Rule{Property: "items.probe:firewall.active", Operator: "not_contains", Value: "ufw"}, StatusPass},
		{Rule{Property: "hostname", Operator: "matches", Value: `^web[0-9]+$`}, StatusPass},
		{Rule{Property: "labels.env", Operator: "exists"}, StatusPass},
		{Rule{Property: "items.probe:sshd.settings.banner", Operator: "not_exists"}, StatusPass},
		{Rule{Property: "items.probe:nosuch.x", Operator: "exists"}, StatusFail},
		{Rule{Property: "packages.openssl", Operator: "version_lt", Value: "3.0.15-1~deb12u2"}, StatusPass},
		{Rule{Property: "packages.openssl", Operator: "version_ge", Value: "3.0.16", Scheme: "deb"}, StatusFail},
		{Rule{Property: "os.version_id", Operator: "eq", Value: "12"}, StatusPass},
		{Rule{Property: "items.probe:sshd.settings.nosuch", Operator: "eq", Value: "x"}, StatusError},
	}
	for _, tt := range tests {
		expr, err := RuleGroup{Op: "and", Rules: []Rule{tt.rule}}.CEL()
		if err != nil {
			t.Errorf("%+v: %v", tt.rule, err)
			continue
		}
		p, err := Compile(expr)
		if err != nil {
			t.Errorf("%+v: %s: %v", tt.rule, expr, err)
			continue
		}
		if r := Evaluate(&Check{}, p, facts); r.Status != tt.want {
			t.Errorf("%+v: %s: %s %q, want %s", tt.rule, expr, r.Status, r.Reason, tt.want)
		}
	}
}

func TestRuleGroups(t *testing.T) {
	g := RuleGroup{Op: "or",
		Rules: []Rule{{Property: "labels.env", Operator: "eq", Value: "dev"}},
		Groups: []RuleGroup{{Op: "and", Rules: []Rule{
			{Property: "labels.env", Operator: "eq", Value: "prod"},
			{Property: "labels.team", Operator: "exists"},
		}}, {Rules: []Rule{{Property: "os.family", Operator: "eq", Value: "debian"}}}},
	}
	expr, err := g.CEL()
	if err != nil {
		t.Fatal(err)
	}
	want := `string(labels.env) == "dev" || (string(labels.env) == "prod" && ("team" in labels)) || (string(os.family) == "debian")`
	if expr != want {
		t.Errorf("got  %s\nwant %s", expr, want)
	}
	p, err := Compile(expr)
	if err != nil {
		t.Fatal(err)
	}
	if r := Evaluate(&Check{}, p, goodHost().facts(t)); r.Status != StatusPass {
		t.Errorf("%s %s", r.Status, r.Reason)
	}
}

func TestRuleRejects(t *testing.T) {
	tests := []struct {
		g   RuleGroup
		msg string
	}{
		{RuleGroup{Op: "and", Rules: []Rule{{Property: `items.x) || true || (x`, Operator: "eq"}}}, "unexpected ')'"},
		{RuleGroup{Rules: []Rule{{Property: `labels.a b`, Operator: "eq"}}}, "unexpected ' '"},
		{RuleGroup{Rules: []Rule{{Property: `labels."a" + "b"`, Operator: "eq"}}}, "unexpected ' '"},
		{RuleGroup{Rules: []Rule{{Property: `labels."a\nb"`, Operator: "eq"}}}, "escapes"},
		{RuleGroup{Rules: []Rule{{Property: `labels."unterminated`, Operator: "eq"}}}, "unterminated"},
		{RuleGroup{Rules: []Rule{{Property: `labels..x`, Operator: "eq"}}}, "unexpected '.'"},
		{RuleGroup{Rules: []Rule{{Property: `labels.`, Operator: "eq"}}}, "want a segment after"},
		{RuleGroup{Rules: []Rule{{Property: `size(labels)`, Operator: "eq"}}}, "unexpected '('"},
		{RuleGroup{Rules: []Rule{{Property: `secrets.x`, Operator: "eq"}}}, "not a fact variable"},
		{RuleGroup{Rules: []Rule{{Property: `labels.x`, Operator: "like"}}}, "unknown operator"},
		{RuleGroup{Rules: []Rule{{Property: `labels.x`, Operator: "gt", Value: "4 || true"}}}, "needs an integer"},
		{RuleGroup{Rules: []Rule{{Property: `labels.x`, Operator: "matches", Value: "(a"}}}, "missing closing )"},
		{RuleGroup{Rules: []Rule{{Property: `labels.x`, Operator: "exists", Value: "y"}}}, "takes no value"},
		{RuleGroup{Rules: []Rule{{Property: `labels`, Operator: "exists"}}}, "needs a property below"},
		{RuleGroup{Rules: []Rule{{Property: `packages.x`, Operator: "version_lt", Value: "1", Scheme: "msi"}}}, "scheme"},
		{RuleGroup{Rules: []Rule{{Property: `labels.x`, Operator: "eq", Value: "\xff"}}}, "UTF-8"},
		{RuleGroup{Op: "xor", Rules: []Rule{{Property: `labels.x`, Operator: "eq"}}}, "want and or or"},
		{RuleGroup{Op: "and"}, "empty group"},
	}
	for _, tt := range tests {
		_, err := tt.g.CEL()
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%+v: %v, want ~%q", tt.g, err, tt.msg)
		}
	}
	deep := RuleGroup{Rules: []Rule{{Property: "labels.x", Operator: "exists"}}}
	for i := 0; i < maxRuleDepth; i++ {
		deep = RuleGroup{Groups: []RuleGroup{deep}}
	}
	if _, err := deep.CEL(); err == nil {
		t.Error("over-deep groups accepted")
	}
}

func TestParseProperty(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"items.probe:sshd.settings.permitrootlogin", []string{"items", "probe:sshd", "settings", "permitrootlogin"}},
		{`items."file_meta:/etc/ssh/sshd_config".mode`, []string{"items", "file_meta:/etc/ssh/sshd_config", "mode"}},
		{`labels."say \"hi\" \\o/"`, []string{"labels", `say "hi" \o/`}},
		{"items.file_meta:/etc/passwd", []string{"items", "file_meta:/etc/passwd"}},
	}
	for _, tt := range tests {
		got, err := ParseProperty(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %q %v", tt.in, got, err)
		}
	}
}
