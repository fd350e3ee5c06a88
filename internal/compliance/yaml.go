package compliance

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-project/vigil/internal/inventory"
)

// MaxYAMLSize bounds an imported document.
const MaxYAMLSize = 4 << 20

// packFile and checkFile are the YAML forms of Pack and Check. They differ
// only in Needs, which YAML writes as item keys ("probe:sshd").
type packFile struct {
	ID          string      `yaml:"id"`
	Title       string      `yaml:"title"`
	Description string      `yaml:"description,omitempty"`
	Checks      []checkFile `yaml:"checks"`
}

type checkFile struct {
	ID          string     `yaml:"id"`
	Title       string     `yaml:"title"`
	Description string     `yaml:"description,omitempty"`
	Rationale   string     `yaml:"rationale,omitempty"`
	Remediation string     `yaml:"remediation,omitempty"`
	Severity    string     `yaml:"severity"`
	Platforms   []string   `yaml:"platforms,omitempty,flow"`
	Needs       []string   `yaml:"needs,omitempty"`
	Reference   string     `yaml:"reference,omitempty"`
	Expected    string     `yaml:"expected,omitempty"`
	When        string     `yaml:"when,omitempty"`
	Condition   string     `yaml:"condition,omitempty"`
	Rule        *RuleGroup `yaml:"rule,omitempty"`
}

func (f *checkFile) check() (Check, error) {
	c := Check{ID: f.ID, Title: f.Title, Description: f.Description, Rationale: f.Rationale,
		Remediation: f.Remediation, Severity: f.Severity, Platforms: f.Platforms, Reference: f.Reference,
		Expected: f.Expected, Condition: f.Condition, Rule: f.Rule, When: f.When}
	for i, key := range f.Needs {
		n, err := ParseNeed(key)
		if err != nil {
			return c, &FieldError{Field: fmt.Sprintf("needs[%d]", i), Message: err.Error()}
		}
		c.Needs = append(c.Needs, n)
	}
	return c, nil
}

func toCheckFile(c *Check) checkFile {
	f := checkFile{ID: c.ID, Title: c.Title, Description: c.Description, Rationale: c.Rationale,
		Remediation: c.Remediation, Severity: c.Severity, Platforms: c.Platforms, Reference: c.Reference,
		Expected: c.Expected, Condition: c.Condition, Rule: c.Rule, When: c.When}
	for _, n := range c.Needs {
		f.Needs = append(f.Needs, n.Key())
	}
	return f
}

// ParsePack decodes and validates a pack from YAML. Unknown fields are
// rejected; errors name the line.
func ParsePack(data []byte) (*Pack, error) {
	var f packFile
	if err := decodeStrict(data, &f); err != nil {
		return nil, err
	}
	p := &Pack{ID: f.ID, Title: f.Title, Description: f.Description}
	for i := range f.Checks {
		c, err := f.Checks[i].check()
		if err != nil {
			return nil, withLine(data, prefixField(fmt.Sprintf("checks[%d]", i), err))
		}
		p.Checks = append(p.Checks, c)
	}
	if err := p.Validate(); err != nil {
		return nil, withLine(data, err)
	}
	return p, nil
}

// ParseCheck decodes and validates a single check from YAML.
func ParseCheck(data []byte) (*Check, error) {
	var f checkFile
	if err := decodeStrict(data, &f); err != nil {
		return nil, err
	}
	c, err := f.check()
	if err == nil {
		err = c.Validate()
	}
	if err != nil {
		return nil, withLine(data, err)
	}
	return &c, nil
}

// MarshalPack encodes a pack as YAML, the form ParsePack reads.
func MarshalPack(p *Pack) ([]byte, error) {
	f := packFile{ID: p.ID, Title: p.Title, Description: p.Description}
	for i := range p.Checks {
		f.Checks = append(f.Checks, toCheckFile(&p.Checks[i]))
	}
	return encode(&f)
}

// MarshalCheck encodes one check as YAML, the form ParseCheck reads.
func MarshalCheck(c *Check) ([]byte, error) {
	f := toCheckFile(c)
	return encode(&f)
}

func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var notFoundRE = regexp.MustCompile(`field (\S+) not found in type \S+`)

// decodeStrict decodes exactly one YAML document, rejecting unknown fields.
func decodeStrict(data []byte, v any) (err error) {
	if len(data) > MaxYAMLSize {
		return fmt.Errorf("document larger than %d bytes", MaxYAMLSize)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("empty document")
		}
		var te *yaml.TypeError
		if errors.As(err, &te) {
			msgs := make([]string, len(te.Errors))
			for i, m := range te.Errors {
				m = notFoundRE.ReplaceAllString(m, `unknown field "$1"`)
				msgs[i] = strings.ReplaceAll(m, "compliance.", "")
			}
			return errors.New(strings.Join(msgs, "; "))
		}
		return errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("more than one YAML document")
	}
	return nil
}

// withLine fills in the line of a FieldError from the document's node tree.
func withLine(data []byte, err error) error {
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Line > 0 {
		return err
	}
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil || len(root.Content) == 0 {
		return err
	}
	line := root.Content[0].Line
	n := root.Content[0]
	for _, part := range strings.Split(fe.Field, ".") {
		name, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 && strings.HasSuffix(part, "]") {
			name = part[:i]
			idx, _ = strconv.Atoi(part[i+1 : len(part)-1])
		}
		n = mapValue(n, name)
		if n == nil {
			break
		}
		line = n.Line
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				break
			}
			n = n.Content[idx]
			line = n.Line
		}
	}
	return &FieldError{Field: fe.Field, Message: fe.Message, Line: line}
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// needKeys renders item requests as keys, for messages.
func needKeys(needs []inventory.ItemRequest) []string {
	out := make([]string, len(needs))
	for i, n := range needs {
		out[i] = n.Key()
	}
	return out
}
