package compliance

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/ext"

	"github.com/vigil-project/vigil/internal/vuln/version"
)

// Limits that keep a hostile expression from hanging or exhausting the server.
const (
	MaxExpressionLen  = 8192      // bytes of CEL source
	MaxExpressionNode = 2000      // AST nodes, macros expanded
	MaxNestingDepth   = 64        // parser recursion
	MaxRegexProgram   = 2000      // RE2 program size of a constant regex
	CostLimit         = 1_000_000 // CEL runtime cost units per evaluation
)

// FactVariables are the top-level names a condition may read, with their
// CEL types. Maps of "dyn" hold decoded JSON.
var FactVariables = map[string]*cel.Type{
	"os":                cel.MapType(cel.StringType, cel.DynType),
	"kernel":            cel.MapType(cel.StringType, cel.DynType),
	"hostname":          cel.StringType,
	"cpu":               cel.MapType(cel.StringType, cel.DynType),
	"memory":            cel.MapType(cel.StringType, cel.DynType),
	"uptime_seconds":    cel.IntType,
	"packages":          cel.MapType(cel.StringType, cel.StringType),
	"package_ecosystem": cel.StringType,
	"items":             cel.MapType(cel.StringType, cel.DynType),
	"items_error":       cel.MapType(cel.StringType, cel.StringType),
	"mounts":            cel.MapType(cel.StringType, cel.DynType),
	"labels":            cel.MapType(cel.StringType, cel.StringType),
	"findings":          cel.MapType(cel.StringType, cel.DynType),
	"now":               cel.TimestampType,
	"scanned_at":        cel.TimestampType,
	"facts_unknown":     cel.MapType(cel.StringType, cel.StringType),
	"windows":           cel.MapType(cel.StringType, cel.DynType),
}

var (
	envOnce sync.Once
	env     *cel.Env
	envErr  error
)

// Env returns the shared CEL environment checks compile in.
func Env() (*cel.Env, error) {
	envOnce.Do(func() {
		names := make([]string, 0, len(FactVariables))
		for n := range FactVariables {
			names = append(names, n)
		}
		sort.Strings(names)
		opts := []cel.EnvOption{
			ext.Strings(), ext.Sets(),
			cel.CrossTypeNumericComparisons(true),
			cel.DefaultUTCTimeZone(true),
			cel.ParserExpressionSizeLimit(MaxExpressionLen),
			cel.ParserRecursionLimit(MaxNestingDepth),
			cel.ExpressionNodeLimit(MaxExpressionNode),
			cel.RegexProgramSizeLimit(MaxRegexProgram),
			cel.Function("version_compare",
				cel.Overload("version_compare_string_string_string", []*cel.Type{cel.StringType, cel.StringType, cel.StringType}, cel.IntType,
					cel.FunctionBinding(versionCompare))),
			cel.Function("int_of",
				cel.Overload("int_of_dyn", []*cel.Type{cel.DynType}, cel.IntType, cel.UnaryBinding(intOf))),
			cel.Function("duration_seconds",
				cel.Overload("duration_seconds_dyn", []*cel.Type{cel.DynType}, cel.IntType, cel.UnaryBinding(durationSeconds))),
			cel.Function("undetermined",
				cel.Overload("undetermined_string", []*cel.Type{cel.StringType}, cel.BoolType, cel.UnaryBinding(undetermined))),
			cel.Function("mode_at_most",
				cel.Overload("mode_at_most_dyn_string", []*cel.Type{cel.DynType, cel.StringType}, cel.BoolType,
					cel.BinaryBinding(modeAtMost))),
		}
		for _, n := range names {
			opts = append(opts, cel.Variable(n, FactVariables[n]))
		}
		env, envErr = cel.NewEnv(opts...)
	})
	return env, envErr
}

// Program is a compiled condition, safe for concurrent use.
type Program struct {
	Expr  string
	prg   cel.Program
	reads []readPath // what the condition reads, for Result.Actual
	items []string   // item keys read with a constant key
	when  *Program   // the check's When condition, if any
}

// Items returns the item keys the condition reads by constant key, sorted.
func (p *Program) Items() []string { return p.items }

// Issue is one compile error at a 1-based line and column.
type Issue struct {
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
}

// CompileError lists what is wrong with an expression, with positions.
type CompileError struct {
	Issues []Issue
}

func (e *CompileError) Error() string {
	parts := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		parts[i] = fmt.Sprintf("%d:%d: %s", is.Line, is.Column, is.Message)
	}
	return strings.Join(parts, "; ")
}

// Compile type-checks a CEL condition, which must yield a bool.
func Compile(expr string) (*Program, error) {
	e, err := Env()
	if err != nil {
		return nil, err
	}
	switch {
	case strings.TrimSpace(expr) == "":
		return nil, &CompileError{Issues: []Issue{{Line: 1, Column: 1, Message: "empty expression"}}}
	case len(expr) > MaxExpressionLen:
		return nil, &CompileError{Issues: []Issue{{Line: 1, Column: 1, Message: fmt.Sprintf("expression longer than %d bytes", MaxExpressionLen)}}}
	case !utf8.ValidString(expr):
		return nil, &CompileError{Issues: []Issue{{Line: 1, Column: 1, Message: "expression is not valid UTF-8"}}}
	}
	ast, iss := e.Compile(expr)
	if iss != nil && iss.Err() != nil {
		ce := &CompileError{}
		for _, er := range iss.Errors() {
			ce.Issues = append(ce.Issues, Issue{Line: er.Location.Line(), Column: er.Location.Column() + 1, Message: er.Message})
		}
		if len(ce.Issues) == 0 {
			ce.Issues = []Issue{{Line: 1, Column: 1, Message: iss.Err().Error()}}
		}
		return nil, ce
	}
	if t := ast.OutputType(); !t.IsExactType(cel.BoolType) && !t.IsExactType(cel.DynType) {
		return nil, &CompileError{Issues: []Issue{{Line: 1, Column: 1, Message: fmt.Sprintf("condition must be a bool, not %s", t)}}}
	}
	prg, err := e.Program(ast, cel.CostLimit(CostLimit), cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, &CompileError{Issues: []Issue{{Line: 1, Column: 1, Message: err.Error()}}}
	}
	p := &Program{Expr: expr, prg: prg}
	p.reads, p.items = collectReads(ast.NativeRep().Expr())
	return p, nil
}

// CompileCheck validates a check and compiles its condition. A condition
// reading an item (by constant key) that Needs does not list is an error:
// the agent would never collect it.
func CompileCheck(c *Check) (*Program, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	expr, err := c.Expression()
	if err != nil {
		return nil, err
	}
	p, err := Compile(expr)
	if err != nil {
		return nil, err
	}
	if c.When != "" {
		if p.when, err = Compile(c.When); err != nil {
			return nil, &FieldError{Field: "when", Message: err.Error()}
		}
	}
	needed := map[string]bool{}
	for _, n := range c.Needs {
		needed[n.Key()] = true
	}
	for _, q := range []*Program{p, p.when} {
		if q == nil {
			continue
		}
		for _, k := range q.items {
			if !needed[k] {
				return nil, &FieldError{Field: "needs", Message: fmt.Sprintf("the condition reads item %q, which needs does not list (have %s)", k, strings.Join(needKeys(c.Needs), ", "))}
			}
		}
	}
	return p, nil
}

func versionCompare(args ...ref.Val) ref.Val {
	a, ok1 := args[0].Value().(string)
	b, ok2 := args[1].Value().(string)
	scheme, ok3 := args[2].Value().(string)
	if !ok1 || !ok2 || !ok3 {
		return types.NewErr("version_compare: want (string, string, string)")
	}
	cmp, err := version.For(scheme)
	if err != nil {
		return types.NewErr("version_compare: unknown scheme %q (want deb, rpm or apk)", scheme)
	}
	n, err := cmp.Compare(a, b)
	if err != nil {
		return types.NewErr("version_compare: %v", err)
	}
	return types.Int(n)
}

// toInt coerces ints, integral doubles and numeric strings.
func toInt(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case uint64:
		if x > math.MaxInt64 {
			return 0, errors.New("out of range")
		}
		return int64(x), nil
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, fmt.Errorf("%v is not an integer", x)
		}
		return int64(x), nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", x)
		}
		return n, nil
	}
	return 0, fmt.Errorf("cannot convert %T to int", v)
}

func intOf(v ref.Val) ref.Val {
	n, err := toInt(v.Value())
	if err != nil {
		return types.NewErr("int_of: %v", err)
	}
	return types.Int(n)
}

// parseMode reads a permission mode: an int, or a string in octal
// ("0644", "644", "-rw-r--r--" is not accepted).
func parseMode(v any) (int64, error) {
	if s, ok := v.(string); ok {
		n, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(s), "0o"), 8, 64)
		if err != nil || n < 0 || n > 07777 {
			return 0, fmt.Errorf("%q is not an octal mode", s)
		}
		return n, nil
	}
	n, err := toInt(v)
	if err != nil || n < 0 || n > 07777 {
		return 0, fmt.Errorf("%v is not a mode", v)
	}
	return n, nil
}

// modeAtMost reports whether mode grants nothing that max does not.
func modeAtMost(mode, max ref.Val) ref.Val {
	m, err := parseMode(mode.Value())
	if err != nil {
		return types.NewErr("mode_at_most: %v", err)
	}
	x, err := parseMode(max.Value())
	if err != nil {
		return types.NewErr("mode_at_most: %v", err)
	}
	return types.Bool(m&^x == 0)
}

// durationSeconds reads an sshd-style time: seconds as a number, or a
// sequence of number-unit pairs with units s, m, h, d, w ("1m30s").
func durationSeconds(v ref.Val) ref.Val {
	s, ok := v.Value().(string)
	if !ok {
		n, err := toInt(v.Value())
		if err != nil {
			return types.NewErr("duration_seconds: %v", err)
		}
		return types.Int(n)
	}
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return types.NewErr("duration_seconds: empty value")
	}
	var total, num int64
	digits := false
	for _, c := range s {
		if c >= '0' && c <= '9' {
			if num > 1e12 {
				return types.NewErr("duration_seconds: %q out of range", s)
			}
			num, digits = num*10+int64(c-'0'), true
			continue
		}
		mult, ok := map[rune]int64{'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800}[c]
		if !ok || !digits {
			return types.NewErr("duration_seconds: %q is not a time (e.g. 60, 1m30s)", s)
		}
		total, num, digits = total+num*mult, 0, false
	}
	return types.Int(total + num)
}

// undeterminedPrefix marks the error undetermined() raises, so Evaluate
// shows its reason as it is.
const undeterminedPrefix = "undetermined: "

// undetermined makes the check's result "error" with the given reason: for
// data that is present but not enough to judge.
func undetermined(v ref.Val) ref.Val {
	return types.NewErr("%s%v", undeterminedPrefix, v.Value())
}
