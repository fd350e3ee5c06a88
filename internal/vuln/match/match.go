// Package match turns a host's OS and packages into findings.
//
// Distribution packages are matched only against their distribution's own
// advisories (OSV), with that distribution's version ordering, so a fix a
// distribution backported into an older version number is recognised as a
// fix. NVD supplies scores; its CPE ranges are never applied to distribution
// packages, which is where naive scanners get their false positives.
package match

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/vuln"
	"github.com/vigil-project/vigil/internal/vuln/osv"
	"github.com/vigil-project/vigil/internal/vuln/version"
)

// Data is what the matcher reads from the store.
type Data interface {
	EcosystemAdvisories(ctx context.Context, ecosystem string) ([]*vuln.Advisory, int64, error)
	EcosystemGenerations(ctx context.Context) (map[string]int64, error)
	CVEScores(ctx context.Context, ids []string) (map[string]store.CVEScore, error)
}

// Matcher keeps an in-memory index of advisories per ecosystem, reloaded
// when the ecosystem's generation in the store changes (another server
// replica, or a feed import, changed it).
type Matcher struct {
	data Data
	// Recheck bounds how often generations are read from the store; a
	// batch re-match of thousands of hosts reads them once.
	Recheck time.Duration

	mu        sync.Mutex
	checkedAt time.Time
	gens      map[string]int64
	indexes   map[string]*index
}

// New returns a Matcher reading from data.
func New(data Data) *Matcher {
	return &Matcher{data: data, Recheck: time.Second, indexes: map[string]*index{}}
}

// index is one ecosystem's advisories by package name, with the verdicts
// already computed: a fleet runs few distinct versions of each package, and
// comparing versions (regular expressions, in the rpm library) is most of
// the cost of a match.
type index struct {
	gen   int64
	byPkg map[string][]*entry

	mu       sync.Mutex
	verdicts map[verdictKey]osv.Result
}

type verdictKey struct {
	e       *entry
	version string
}

// maxVerdicts bounds the verdict cache; past it the cache starts afresh.
const maxVerdicts = 1 << 20

func (ix *index) evaluate(e *entry, cmp version.Comparer, v string) (osv.Result, error) {
	k := verdictKey{e, v}
	ix.mu.Lock()
	r, ok := ix.verdicts[k]
	ix.mu.Unlock()
	if ok {
		return r, nil
	}
	r, err := osv.Evaluate(e.aff, cmp, v)
	if err != nil {
		return r, err
	}
	ix.mu.Lock()
	if len(ix.verdicts) >= maxVerdicts {
		ix.verdicts = map[verdictKey]osv.Result{}
	}
	ix.verdicts[k] = r
	ix.mu.Unlock()
	return r, nil
}

type entry struct {
	adv  *vuln.Advisory
	aff  vuln.Affected
	cves []string
}

func buildIndex(ecosystem string, advs []*vuln.Advisory, gen int64) *index {
	ix := &index{gen: gen, byPkg: map[string][]*entry{}, verdicts: map[verdictKey]osv.Result{}}
	for _, a := range advs {
		if a.Withdrawn != nil {
			continue // a withdrawn advisory raises nothing; its findings resolve
		}
		for _, af := range a.Affected {
			if af.Ecosystem == ecosystem {
				ix.byPkg[af.Package] = append(ix.byPkg[af.Package], &entry{adv: a, aff: af, cves: a.CVEs()})
			}
		}
	}
	return ix
}

// refresh reads the ecosystems' generations when the last read is older
// than Recheck. Callers hold m.mu.
func (m *Matcher) refresh(ctx context.Context) error {
	if m.gens != nil && time.Since(m.checkedAt) <= m.Recheck {
		return nil
	}
	gens, err := m.data.EcosystemGenerations(ctx)
	if err != nil {
		return err
	}
	m.gens, m.checkedAt = gens, time.Now()
	return nil
}

// indexes returns the current index of every imported ecosystem that
// matches one of the host's ecosystem patterns, loading stale ones, and the
// patterns no imported ecosystem matched.
func (m *Matcher) indexesFor(ctx context.Context, patterns []string) (map[string]*index, []string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.refresh(ctx); err != nil {
		return nil, nil, err
	}
	out := map[string]*index{}
	var missing []string
	for _, pat := range patterns {
		found := false
		for eco, gen := range m.gens {
			if !osv.MatchEcosystem(pat, eco) {
				continue
			}
			found = true
			ix := m.indexes[eco]
			if ix == nil || ix.gen != gen {
				advs, g, err := m.data.EcosystemAdvisories(ctx, eco)
				if err != nil {
					return nil, nil, fmt.Errorf("load advisories for %s: %w", eco, err)
				}
				ix = buildIndex(eco, advs, g)
				m.indexes[eco] = ix
			}
			out[eco] = ix
		}
		if !found {
			missing = append(missing, pat)
		}
	}
	return out, missing, nil
}

// HasData reports whether any advisories are imported for the host's OS:
// without them a match finds nothing, and reading the host's packages can
// be skipped.
func (m *Matcher) HasData(ctx context.Context, os inventory.OS) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.refresh(ctx); err != nil {
		return false, err
	}
	for _, pat := range osv.Ecosystems(os, osv.Options{}) {
		for eco := range m.gens {
			if osv.MatchEcosystem(pat, eco) {
				return true, nil
			}
		}
	}
	return false, nil
}

// Result is the outcome of matching one host.
type Result struct {
	Findings []vuln.Finding
	// Ecosystems are the advisory sources the host was matched against;
	// Missing lists those with no imported data, so "no findings" is never
	// mistaken for "no vulnerabilities".
	Ecosystems []string
	Missing    []string
}

// Match matches one host. It does not write anything.
func (m *Matcher) Match(ctx context.Context, os inventory.OS, pkgs []inventory.Package) (*Result, error) {
	ixs, missing, err := m.indexesFor(ctx, osv.Ecosystems(os, osv.Options{}))
	if err != nil {
		return nil, err
	}
	res := &Result{Missing: missing}
	ecos := make([]string, 0, len(ixs))
	for eco := range ixs {
		ecos = append(ecos, eco)
	}
	sort.Strings(ecos) // deterministic choice between equal candidates
	cands := map[string]*vuln.Finding{}
	for _, eco := range ecos {
		res.Ecosystems = append(res.Ecosystems, eco)
		scheme, ok := osv.VersionScheme(eco)
		if !ok {
			continue
		}
		cmp, err := version.For(scheme)
		if err != nil {
			continue // a version scheme this build cannot order: never guess
		}
		ix := ixs[eco]
		for _, g := range groupPackages(eco, scheme, pkgs) {
			for _, e := range ix.byPkg[g.name] {
				r, err := ix.evaluate(e, cmp, g.version)
				if err != nil || !r.Affected {
					continue
				}
				ids := e.cves
				if len(ids) == 0 {
					ids = []string{e.adv.ID}
				}
				for _, id := range ids {
					f := &vuln.Finding{VulnID: id, AdvisoryID: e.adv.ID, Source: "osv:" + eco, Package: g.name,
						Binaries: g.binaries, Installed: g.version, Fixed: r.Fixed,
						Rule: fmt.Sprintf("%s %s: %s", eco, e.adv.ID, r.Rule), Severity: vuln.NormalizeSeverity(e.adv.Severity)}
					if prev, ok := cands[f.Key()]; ok && !better(cmp, f, prev) {
						continue
					}
					cands[f.Key()] = f
				}
			}
		}
	}
	if len(cands) == 0 {
		return res, nil
	}
	ids := make([]string, 0, len(cands))
	seen := map[string]bool{}
	for _, f := range cands {
		if !seen[f.VulnID] {
			seen[f.VulnID] = true
			ids = append(ids, f.VulnID)
		}
	}
	scores, err := m.data.CVEScores(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("cve scores: %w", err)
	}
	for _, f := range cands {
		if s, ok := scores[f.VulnID]; ok && s.Score > 0 {
			f.CVSSScore, f.CVSSVector, f.Severity = s.Score, s.Vector, s.Severity
		}
		res.Findings = append(res.Findings, *f)
	}
	sort.Slice(res.Findings, func(i, j int) bool {
		a, b := res.Findings[i], res.Findings[j]
		if a.VulnID != b.VulnID {
			return a.VulnID < b.VulnID
		}
		return a.Package < b.Package
	})
	return res, nil
}

// better prefers the advisory whose fix resolves the most: a fixed version
// over none, then the higher fixed version.
func better(cmp version.Comparer, f, prev *vuln.Finding) bool {
	if f.Fixed == "" || prev.Fixed == "" {
		return prev.Fixed == "" && f.Fixed != ""
	}
	c, err := cmp.Compare(f.Fixed, prev.Fixed)
	return err == nil && c > 0
}

// group is one name/version to look up in an ecosystem's advisories, with
// the installed binary packages it stands for (Debian's libc6 and
// libc-bin are both glibc).
type group struct {
	name, version string
	binaries      []string
}

func groupPackages(eco, scheme string, pkgs []inventory.Package) []group {
	idx := map[[2]string]int{}
	var out []group
	for _, p := range pkgs {
		if p.Ecosystem != scheme {
			// A Python distribution or a Windows program never answers to a
			// distribution's advisory, even when the names collide.
			continue
		}
		name, ver := osv.PackageKey(eco, p)
		k := [2]string{name, ver}
		if i, ok := idx[k]; ok {
			out[i].binaries = append(out[i].binaries, p.Name)
			continue
		}
		idx[k] = len(out)
		out = append(out, group{name: name, version: ver, binaries: []string{p.Name}})
	}
	for i := range out {
		b := out[i].binaries
		sort.Strings(b)
		b = compact(b)
		if len(b) == 1 && b[0] == out[i].name {
			b = nil // nothing to add: the binary is the package
		}
		out[i].binaries = b
	}
	return out
}

func compact(ss []string) []string {
	out := ss[:0]
	for i, s := range ss {
		if i == 0 || s != ss[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// Names returns the package names a feed change must look for on hosts.
func Names(keys []store.PackageKey) []string {
	seen := map[string]bool{}
	var out []string
	for _, k := range keys {
		if !seen[k.Package] {
			seen[k.Package] = true
			out = append(out, k.Package)
		}
	}
	sort.Strings(out)
	return out
}
