package service

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/vigil-project/vigil/internal/compliance"
	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/store"
)

// compiledCache holds compiled conditions by their source, shared by all
// workspaces: the same expression compiles to the same program. Bounded by
// the number of distinct conditions, which users write by hand.
type compiledCache struct {
	mu    sync.Mutex
	progs map[[32]byte]*compliance.Program
	errs  map[[32]byte]error
}

var programs = &compiledCache{progs: map[[32]byte]*compliance.Program{}, errs: map[[32]byte]error{}}

// compileCheck compiles a check's condition once per distinct check body.
func (c *compiledCache) compileCheck(ch *compliance.Check) (*compliance.Program, error) {
	y, err := compliance.MarshalCheck(ch)
	if err != nil {
		return nil, err
	}
	k := sha256.Sum256(y)
	c.mu.Lock()
	p, ok := c.progs[k]
	perr := c.errs[k]
	c.mu.Unlock()
	if ok || perr != nil {
		return p, perr
	}
	p, err = compliance.CompileCheck(ch)
	c.mu.Lock()
	if err != nil {
		c.errs[k] = err
	} else {
		c.progs[k] = p
	}
	c.mu.Unlock()
	return p, err
}

// checkSet is the checks a workspace can assign: the built-in packs and
// its own checks.
type checkSet struct {
	packs  map[string][]*compliance.Check // pack ID → checks
	checks map[string]*compliance.Check   // check ID → check
	// compiled holds the built-in checks' programs, compiled once with
	// their packs; custom checks go through the compiled cache.
	compiled map[*compliance.Check]*compliance.Program
}

func (s *Service) checkSet(ctx context.Context, workspaceID int64) (*checkSet, error) {
	cs := &checkSet{packs: map[string][]*compliance.Check{}, checks: map[string]*compliance.Check{},
		compiled: map[*compliance.Check]*compliance.Program{}}
	builtin, err := compliance.Builtin()
	if err != nil {
		return nil, fmt.Errorf("built-in packs: %w", err)
	}
	for _, cp := range builtin {
		for i := range cp.Pack.Checks {
			c := &cp.Pack.Checks[i]
			cs.packs[cp.Pack.ID] = append(cs.packs[cp.Pack.ID], c)
			cs.checks[c.ID] = c
			cs.compiled[c] = cp.Programs[i]
		}
	}
	custom, err := s.Store.ListChecks(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	for _, sc := range custom {
		c, err := compliance.ParseCheck([]byte(sc.YAML))
		if err != nil {
			s.Log.Error("stored check does not parse", "workspace_id", workspaceID, "check", sc.ID, "err", err)
			continue
		}
		cs.checks[c.ID] = c
		if sc.PackID != "" {
			cs.packs[sc.PackID] = append(cs.packs[sc.PackID], c)
		}
	}
	return cs, nil
}

// assignedChecks resolves the checks assigned to any of the groups.
func (cs *checkSet) assigned(as []domain.Assignment, groups map[int64]bool) []*compliance.Check {
	seen := map[string]bool{}
	var out []*compliance.Check
	add := func(c *compliance.Check) {
		if c != nil && !seen[c.ID] {
			seen[c.ID] = true
			out = append(out, c)
		}
	}
	for _, a := range as {
		if !groups[a.GroupID] {
			continue
		}
		switch a.Kind {
		case domain.AssignPack:
			for _, c := range cs.packs[a.Ref] {
				add(c)
			}
		case domain.AssignCheck:
			add(cs.checks[a.Ref])
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// EvaluateHost recomputes a host's dynamic groups from its latest report and
// evaluates every check assigned to its groups, storing the results.
func (s *Service) EvaluateHost(ctx context.Context, workspaceID, hostID int64, r *inventory.HostReport) (int, error) {
	labels, err := s.Store.HostLabels(ctx, workspaceID, hostID)
	if err != nil {
		return 0, err
	}
	findings, _, err := s.Store.ListFindings(ctx, workspaceID, store.FindingFilter{HostID: hostID, IncludeMarked: true, Now: s.Now()})
	if err != nil {
		return 0, err
	}
	facts := compliance.Facts(r, compliance.Extra{Labels: labels, Findings: compliance.FindingStatsFrom(findings, s.Now()), Now: s.Now()})

	groups, err := s.Store.ListGroups(ctx, workspaceID)
	if err != nil {
		return 0, err
	}
	var dynamic []int64
	for _, g := range groups {
		if g.Expression == "" {
			continue
		}
		if member, err := s.groupMatches(&g, facts); err != nil {
			s.Log.Warn("group expression failed", "workspace_id", workspaceID, "group_id", g.ID, "host_id", hostID, "err", err)
		} else if member {
			dynamic = append(dynamic, g.ID)
		}
	}
	changed, err := s.Store.SetDynamicGroups(ctx, workspaceID, hostID, dynamic)
	if err != nil {
		return 0, err
	}
	member, err := s.Store.HostGroupIDs(ctx, workspaceID, hostID)
	if err != nil {
		return 0, err
	}
	if changed {
		// The host's checks, and so the items its agent must collect,
		// may have changed: the next poll must not get a cached config.
		s.forgetAllAgentConfigs()
	}
	in := map[int64]bool{}
	for _, id := range member {
		in[id] = true
	}
	as, err := s.Store.ListAssignments(ctx, workspaceID)
	if err != nil {
		return 0, err
	}
	cs, err := s.checkSet(ctx, workspaceID)
	if err != nil {
		return 0, err
	}
	var results []domain.CheckResult
	for _, c := range cs.assigned(as, in) {
		res := domain.CheckResult{CheckID: c.ID}
		prg, err := cs.compiled[c], error(nil)
		if prg == nil {
			prg, err = programs.compileCheck(c)
		}
		if err != nil {
			res.Status, res.Reason = domain.CheckError, "the check does not compile: "+err.Error()
		} else {
			out := compliance.Evaluate(c, prg, facts)
			res.Status, res.Reason, res.Expected, res.Actual = out.Status, out.Reason, out.Expected, out.Actual
		}
		results = append(results, res)
	}
	n, err := s.Store.SaveCheckResults(ctx, workspaceID, hostID, results, s.Now())
	if err != nil {
		return n, err
	}
	// New results, and results whose host joined or left a group, take the
	// exception that now governs them.
	s.applyExceptions(ctx, workspaceID, hostID)
	return n, nil
}

// groupMatches evaluates a group's expression as a check that passes for
// members.
func (s *Service) groupMatches(g *domain.Group, facts map[string]any) (bool, error) {
	c := &compliance.Check{ID: "group", Title: g.Name, Severity: compliance.SeverityInfo, Condition: g.Expression}
	prg, err := programs.compileCheck(c)
	if err != nil {
		return false, err
	}
	res := compliance.Evaluate(c, prg, facts)
	if res.Status == domain.CheckError {
		return false, fmt.Errorf("%s", res.Reason)
	}
	return res.Status == domain.CheckPass, nil
}

// hostItems returns the union of the items the checks assigned to a host
// need, for its agent config.
func (s *Service) hostItems(ctx context.Context, workspaceID int64, cs *checkSet, as []domain.Assignment, h *domain.Host) ([]inventory.ItemRequest, error) {
	member, err := s.Store.HostGroupIDs(ctx, workspaceID, h.ID)
	if err != nil {
		return nil, err
	}
	in := map[int64]bool{}
	for _, id := range member {
		in[id] = true
	}
	seen := map[string]bool{}
	var out []inventory.ItemRequest
	// A check for another platform would only be not applicable: do not
	// ask the host for its items (a Linux host in a group with the Windows
	// baseline would otherwise run win_* probes that cannot succeed). A host
	// never scanned yet is asked for everything.
	os := h.OS()
	for _, c := range cs.assigned(as, in) {
		if applies, known := compliance.AppliesToOS(c, os); known && !applies {
			continue
		}
		for _, n := range c.Needs {
			if !seen[n.Key()] {
				seen[n.Key()] = true
				out = append(out, n)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out, nil
}

// ValidateExpression compiles a CEL expression and returns the error with
// its position, for the check editor and group forms.
func ValidateExpression(expr string) error {
	if strings.TrimSpace(expr) == "" {
		return domain.Errorf(domain.EINVALID, "expression: required")
	}
	if _, err := compliance.Compile(expr); err != nil {
		return domain.Errorf(domain.EINVALID, "expression: %v", err)
	}
	return nil
}
