package compliance

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/inventory"
)

func TestPackYAMLRoundTrip(t *testing.T) {
	cp := builtinBaseline(t)
	data, err := MarshalPack(cp.Pack)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParsePack(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if !reflect.DeepEqual(back, cp.Pack) {
		t.Error("pack changed in a YAML round trip")
	}
	again, err := MarshalPack(back)
	if err != nil || string(again) != string(data) {
		t.Errorf("second marshal differs: %v", err)
	}
}

func TestCheckYAMLRoundTrip(t *testing.T) {
	c := &Check{ID: "custom-1", Title: "Builder check", Severity: "info", Platforms: []string{"debian", "ubuntu"},
		Needs:    mustNeeds(t, "probe:sshd", "file_meta:/etc/ssh/sshd_config"),
		Rule:     &RuleGroup{Op: "or", Rules: []Rule{{Property: "items.probe:sshd.settings.loglevel", Operator: "eq", Value: `VER"BOSE\`}}},
		Expected: "verbose", Reference: "internal"}
	data, err := MarshalCheck(c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseCheck(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if !reflect.DeepEqual(back, c) {
		t.Errorf("got %+v\nwant %+v\n%s", back, c, data)
	}
	if _, err := CompileCheck(back); err != nil {
		t.Error(err)
	}
}

func TestParseStrict(t *testing.T) {
	head := "id: p\ntitle: P\nchecks:\n"
	check := "  - id: c1\n    title: C\n    severity: low\n    condition: 'true'\n"
	tests := []struct {
		name, doc, want string
	}{
		{"unknown field", head + check + "    severty: high\n", `line 8: unknown field "severty"`},
		{"unknown pack field", "id: p\nversion: 2\n" + "title: P\nchecks: []\n", `line 2: unknown field "version"`},
		{"unknown rule field", head + "  - id: c1\n    title: C\n    severity: low\n    rule:\n      op: and\n      rules:\n        - {property: labels.x, operator: eq, val: y}\n",
			`line 10: unknown field "val"`},
		{"bad severity", head + "  - id: c1\n    title: C\n    severity: urgent\n    condition: 'true'\n", "line 6: checks[0].severity: must be one of"},
		{"bad need", head + check + "  - id: c2\n    title: C\n    severity: low\n    needs: [probe:sshd, 'file:etc/passwd']\n    condition: 'true'\n",
			"line 11: checks[1].needs[1]: file path"},
		{"duplicate id", head + check + check, `line 8: checks[1].id: duplicate check id "c1"`},
		{"condition and rule", head + check + "    rule: {op: and, rules: [{property: labels.x, operator: exists}]}\n", "line 8: checks[0].rule: give either"},
		{"wrong type", head + "  - id: c1\n    title: C\n    severity: [low]\n", "line 6: cannot unmarshal"},
		{"two documents", head + check + "---\nid: q\n", "more than one YAML document"},
		{"syntax", "id: p\ntitle: [\n", "line"},
		{"empty", "", "empty document"},
	}
	for _, tt := range tests {
		_, err := ParsePack([]byte(tt.doc))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want ~%q", tt.name, err, tt.want)
		}
	}
}

func TestCheckValidate(t *testing.T) {
	ok := Check{ID: "a", Title: "A", Severity: "low", Condition: "true"}
	tests := []struct {
		change func(c *Check)
		field  string
	}{
		{func(c *Check) { c.ID = "Bad ID" }, "id"},
		{func(c *Check) { c.Title = " " }, "title"},
		{func(c *Check) { c.Platforms = []string{"Linux"} }, "platforms[0]"},
		{func(c *Check) { c.Condition = "" }, "condition"},
		{func(c *Check) { c.Condition = strings.Repeat("x", MaxTextLen+1) }, "condition"},
	}
	for _, tt := range tests {
		c := ok
		tt.change(&c)
		err := c.Validate()
		fe, isFE := err.(*FieldError)
		if !isFE || fe.Field != tt.field {
			t.Errorf("%+v: %v, want an error on %s", c.ID, err, tt.field)
		}
	}
	if err := ok.Validate(); err != nil {
		t.Error(err)
	}
}

func mustNeeds(t *testing.T, keys ...string) []inventory.ItemRequest {
	t.Helper()
	out, err := needsOf(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The example in docs/checks.md parses, compiles and evaluates.
func TestDocsExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/checks.md")
	if err != nil {
		t.Skip(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("no yaml example in docs/checks.md")
	}
	p, err := ParsePack([]byte(example))
	if err != nil {
		t.Fatal(err)
	}
	cp, err := CompilePack(p)
	if err != nil {
		t.Fatal(err)
	}
	h := goodHost()
	h.item("probe:sshd")["settings"].(map[string]any)["allowgroups"] = "ssh-users"
	for i, r := range cp.EvaluateAll(h.facts(t)) {
		if r.Status != StatusPass {
			t.Errorf("%s: %s %s", p.Checks[i].ID, r.Status, r.Reason)
		}
	}
}
