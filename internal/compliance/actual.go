package compliance

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
)

// readPath is a chain of constant selections from a fact variable, such as
// items["probe:sshd"].settings.permitrootlogin, that a condition reads.
type readPath struct {
	root string
	segs []any // string keys or int64 list indexes
	text string
	test bool // only tested for presence (has(), "k" in m): absence is no error
}

func (p readPath) extends(q readPath) bool {
	if p.root != q.root || len(p.segs) <= len(q.segs) {
		return false
	}
	for i := range q.segs {
		if p.segs[i] != q.segs[i] {
			return false
		}
	}
	return true
}

// collectReads walks a checked AST for the fact paths it reads, longest
// chains only, in order of appearance, and the item keys among them.
func collectReads(e ast.Expr) ([]readPath, []string) {
	var all []readPath
	seen := map[string]int{}
	add := func(p readPath) {
		p.text = renderPath(p.root, p.segs)
		if i, ok := seen[p.text]; ok {
			all[i].test = all[i].test && p.test
			return
		}
		seen[p.text] = len(all)
		all = append(all, p)
	}
	var walk func(e ast.Expr, bound map[string]bool)
	walk = func(e ast.Expr, bound map[string]bool) {
		if e.Kind() == ast.SelectKind && e.AsSelect().IsTestOnly() {
			s := e.AsSelect()
			if root, segs, ok := chain(s.Operand(), bound); ok {
				add(readPath{root: root, segs: append(segs, s.FieldName()), test: true})
				return
			}
		}
		if root, segs, ok := chain(e, bound); ok {
			add(readPath{root: root, segs: segs})
			return
		}
		switch e.Kind() {
		case ast.CallKind:
			c := e.AsCall()
			if c.FunctionName() == operators.In && len(c.Args()) == 2 {
				if key, ok := constKey(c.Args()[0]); ok {
					if root, segs, ok := chain(c.Args()[1], bound); ok {
						add(readPath{root: root, segs: append(segs, key), test: true})
						return
					}
				}
			}
			if c.IsMemberFunction() {
				walk(c.Target(), bound)
			}
			for _, a := range c.Args() {
				walk(a, bound)
			}
		case ast.SelectKind:
			walk(e.AsSelect().Operand(), bound)
		case ast.ListKind:
			for _, el := range e.AsList().Elements() {
				walk(el, bound)
			}
		case ast.MapKind:
			for _, en := range e.AsMap().Entries() {
				if en.Kind() == ast.MapEntryKind {
					walk(en.AsMapEntry().Key(), bound)
					walk(en.AsMapEntry().Value(), bound)
				}
			}
		case ast.ComprehensionKind:
			c := e.AsComprehension()
			walk(c.IterRange(), bound)
			inner := map[string]bool{c.IterVar(): true, c.AccuVar(): true}
			if c.HasIterVar2() {
				inner[c.IterVar2()] = true
			}
			for k := range bound {
				inner[k] = true
			}
			walk(c.AccuInit(), bound)
			walk(c.LoopCondition(), inner)
			walk(c.LoopStep(), inner)
			walk(c.Result(), inner)
		}
	}
	walk(e, map[string]bool{})
	var reads []readPath
	var items []string
	itemSeen := map[string]bool{}
	for _, p := range all {
		if p.root == "items" && len(p.segs) > 0 {
			if k, ok := p.segs[0].(string); ok && !itemSeen[k] {
				itemSeen[k] = true
				items = append(items, k)
			}
		}
		longer := false
		for _, q := range all {
			if q.extends(p) {
				longer = true
				break
			}
		}
		if !longer {
			reads = append(reads, p)
		}
	}
	sort.Strings(items)
	return reads, items
}

// chain recognises ident(.field | [const])* rooted at a fact variable.
func chain(e ast.Expr, bound map[string]bool) (string, []any, bool) {
	switch e.Kind() {
	case ast.IdentKind:
		name := e.AsIdent()
		if _, ok := FactVariables[name]; ok && !bound[name] {
			return name, nil, true
		}
	case ast.SelectKind:
		s := e.AsSelect()
		if root, segs, ok := chain(s.Operand(), bound); ok {
			return root, append(segs, s.FieldName()), true
		}
	case ast.CallKind:
		c := e.AsCall()
		if c.FunctionName() == operators.Index && len(c.Args()) == 2 {
			if key, ok := constKey(c.Args()[1]); ok {
				if root, segs, ok := chain(c.Args()[0], bound); ok {
					return root, append(segs, key), true
				}
			}
		}
	}
	return "", nil, false
}

func constKey(e ast.Expr) (any, bool) {
	if e.Kind() != ast.LiteralKind {
		return nil, false
	}
	switch v := e.AsLiteral().(type) {
	case types.String:
		return string(v), true
	case types.Int:
		return int64(v), true
	}
	return nil, false
}

func renderPath(root string, segs []any) string {
	var b strings.Builder
	b.WriteString(root)
	for _, s := range segs {
		switch k := s.(type) {
		case string:
			if isIdent(k) {
				b.WriteByte('.')
				b.WriteString(k)
			} else {
				b.WriteByte('[')
				b.WriteString(strconv.Quote(k))
				b.WriteByte(']')
			}
		case int64:
			fmt.Fprintf(&b, "[%d]", k)
		}
	}
	return b.String()
}

// lookup follows a path through facts; ok is false when a step is absent.
func lookup(facts map[string]any, p readPath) (any, bool) {
	v, ok := facts[p.root]
	for _, s := range p.segs {
		if !ok {
			return nil, false
		}
		switch c := v.(type) {
		case map[string]any:
			k, isStr := s.(string)
			v, ok = c[k]
			ok = ok && isStr
		case map[string]string:
			k, isStr := s.(string)
			v, ok = c[k]
			ok = ok && isStr
		case []any:
			i, isInt := s.(int64)
			ok = isInt && i >= 0 && i < int64(len(c))
			if ok {
				v = c[i]
			}
		default:
			return nil, false
		}
	}
	return v, ok
}

const (
	maxRendered = 200
	maxElems    = 8
)

// renderActual renders the values a program read, briefly, and collects
// them as evidence.
func renderActual(p *Program, facts map[string]any) (string, map[string]any) {
	if len(p.reads) == 0 {
		return "", nil
	}
	var b strings.Builder
	ev := make(map[string]any, len(p.reads))
	for i, r := range p.reads {
		if i > 0 {
			b.WriteString("; ")
		}
		text := r.text
		v, ok := lookup(facts, r)
		if r.test && len(r.segs) > 0 {
			// "x" in list: show the list rather than an absent "key".
			parent := readPath{root: r.root, segs: r.segs[:len(r.segs)-1]}
			if pv, pok := lookup(facts, parent); pok {
				if _, isList := pv.([]any); isList {
					text, v, ok = renderPath(parent.root, parent.segs), pv, true
				}
			}
		}
		if !ok {
			// Name the first step that is absent: mounts["/tmp"], not
			// mounts["/tmp"].options.
			for n := 0; n <= len(r.segs); n++ {
				if _, pok := lookup(facts, readPath{root: r.root, segs: r.segs[:n]}); !pok {
					text = renderPath(r.root, r.segs[:n])
					break
				}
			}
			b.WriteString(text + " = (absent)")
			continue
		}
		b.WriteString(text)
		b.WriteString(" = ")
		ev[text] = v
		var vb strings.Builder
		renderValue(&vb, v)
		s := vb.String()
		if len(s) > maxRendered {
			s = s[:maxRendered] + "…"
		}
		b.WriteString(s)
	}
	return b.String(), ev
}

func renderValue(b *strings.Builder, v any) {
	if b.Len() > maxRendered {
		return
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		if len(x) > 80 {
			x = x[:80] + "…"
		}
		b.WriteString(strconv.Quote(x))
	case time.Time:
		if x.Equal(x.Truncate(24 * time.Hour)) {
			b.WriteString(x.UTC().Format(time.DateOnly))
		} else {
			b.WriteString(x.UTC().Format(time.RFC3339))
		}
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i == maxElems {
				fmt.Fprintf(b, ", … %d more", len(x)-i)
				break
			}
			if i > 0 {
				b.WriteString(", ")
			}
			renderValue(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		renderMap(b, len(x), func(yield func(string, any)) {
			for k, e := range x {
				yield(k, e)
			}
		})
	case map[string]string:
		renderMap(b, len(x), func(yield func(string, any)) {
			for k, e := range x {
				yield(k, e)
			}
		})
	default:
		fmt.Fprint(b, x)
	}
}

func renderMap(b *strings.Builder, n int, each func(func(string, any))) {
	keys := make([]string, 0, n)
	vals := make(map[string]any, n)
	each(func(k string, v any) { keys = append(keys, k); vals[k] = v })
	sort.Strings(keys)
	b.WriteByte('{')
	for i, k := range keys {
		if i == maxElems {
			fmt.Fprintf(b, ", … %d more", len(keys)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteString(": ")
		renderValue(b, vals[k])
	}
	b.WriteByte('}')
}
