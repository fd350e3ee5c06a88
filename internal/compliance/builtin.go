package compliance

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"sync"
)

//go:embed packs/*.yaml
var packFS embed.FS

var (
	builtinOnce  sync.Once
	builtinPacks []*CompiledPack
	builtinErr   error
)

// CompiledPack is a pack with every check compiled, ready to evaluate.
type CompiledPack struct {
	Pack     *Pack
	Programs []*Program // Programs[i] is Pack.Checks[i]'s condition
}

// CompilePack validates a pack and compiles all its checks; the error names
// the first check that fails.
func CompilePack(p *Pack) (*CompiledPack, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	cp := &CompiledPack{Pack: p, Programs: make([]*Program, len(p.Checks))}
	for i := range p.Checks {
		prg, err := CompileCheck(&p.Checks[i])
		if err != nil {
			return nil, fmt.Errorf("check %s: %w", p.Checks[i].ID, err)
		}
		cp.Programs[i] = prg
	}
	return cp, nil
}

// EvaluateAll runs every check of the pack on one host's facts.
func (cp *CompiledPack) EvaluateAll(facts map[string]any) []Result {
	out := make([]Result, len(cp.Programs))
	for i, prg := range cp.Programs {
		out[i] = Evaluate(&cp.Pack.Checks[i], prg, facts)
	}
	return out
}

// Builtin returns the packs compiled into the binary, sorted by ID. They are
// parsed and compiled once; a broken built-in pack is a build defect that
// the package's tests catch.
func Builtin() ([]*CompiledPack, error) {
	builtinOnce.Do(func() {
		names, err := fs.Glob(packFS, "packs/*.yaml")
		if err != nil {
			builtinErr = err
			return
		}
		for _, name := range names {
			data, err := packFS.ReadFile(name)
			if err != nil {
				builtinErr = err
				return
			}
			p, err := ParsePack(data)
			if err != nil {
				builtinErr = fmt.Errorf("%s: %w", name, err)
				return
			}
			cp, err := CompilePack(p)
			if err != nil {
				builtinErr = fmt.Errorf("%s: %w", name, err)
				return
			}
			builtinPacks = append(builtinPacks, cp)
		}
		sort.Slice(builtinPacks, func(i, j int) bool { return builtinPacks[i].Pack.ID < builtinPacks[j].Pack.ID })
	})
	return builtinPacks, builtinErr
}

// BuiltinPack returns the built-in pack with the given ID.
func BuiltinPack(id string) (*CompiledPack, bool) {
	packs, _ := Builtin()
	for _, p := range packs {
		if p.Pack.ID == id {
			return p, true
		}
	}
	return nil, false
}
