package service

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/compliance"
	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
)

// GroupInput is a group as a user supplies it.
type GroupInput struct {
	Name        *string  `json:"name"`
	Description *string  `json:"description"`
	Expression  *string  `json:"expression"`
	StaticHosts *[]int64 `json:"static_hosts"`
}

// SaveGroup creates (id 0) or updates a group. The expression must compile;
// the error names its line and column.
func (s *Service) SaveGroup(ctx context.Context, a Actor, id int64, in GroupInput) (*domain.Group, error) {
	if err := a.Require(domain.PermHosts); err != nil {
		return nil, err
	}
	g := &domain.Group{WorkspaceID: a.WorkspaceID}
	if id != 0 {
		cur, err := s.Store.GetGroup(ctx, a.WorkspaceID, id)
		if err != nil {
			return nil, err
		}
		g = cur
	}
	if in.Name != nil {
		g.Name = strings.TrimSpace(*in.Name)
	}
	if in.Description != nil {
		g.Description = strings.TrimSpace(*in.Description)
	}
	if in.Expression != nil {
		g.Expression = strings.TrimSpace(*in.Expression)
	}
	if g.Name == "" || len(g.Name) > 100 {
		return nil, domain.Errorf(domain.EINVALID, "name: required, at most 100 characters")
	}
	if g.Expression != "" {
		if _, err := compliance.Compile(g.Expression); err != nil {
			return nil, domain.Errorf(domain.EINVALID, "expression: %v", err)
		}
	}
	var err error
	if id == 0 {
		err = s.Store.CreateGroup(ctx, g)
	} else {
		err = s.Store.UpdateGroup(ctx, g)
	}
	if err != nil {
		return nil, err
	}
	if in.StaticHosts != nil {
		if err := s.Store.SetStaticMembers(ctx, a.WorkspaceID, g.ID, *in.StaticHosts); err != nil {
			return nil, err
		}
	}
	s.Log.Info("group saved", "workspace_id", a.WorkspaceID, "group_id", g.ID, "by", a.Login)
	action := "group.update"
	if id == 0 {
		action = "group.create"
	}
	detail := map[string]any{"name": g.Name, "expression": g.Expression}
	if in.StaticHosts != nil {
		detail["static_hosts"] = len(*in.StaticHosts)
	}
	s.Audit(ctx, a, action, "group", g.ID, detail)
	s.reevaluateLater(a.WorkspaceID)
	return s.Store.GetGroup(ctx, a.WorkspaceID, g.ID)
}

// DeleteGroup removes a group and its assignments.
func (s *Service) DeleteGroup(ctx context.Context, a Actor, id int64) error {
	if err := a.Require(domain.PermHosts); err != nil {
		return err
	}
	if err := s.Store.DeleteGroup(ctx, a.WorkspaceID, id); err != nil {
		return err
	}
	s.Audit(ctx, a, "group.delete", "group", id, nil)
	s.reevaluateLater(a.WorkspaceID)
	return nil
}

// SetAssignments replaces the checks and packs assigned to a group, after
// checking that each exists.
func (s *Service) SetAssignments(ctx context.Context, a Actor, groupID int64, as []domain.Assignment) error {
	if err := a.Require(domain.PermPolicy); err != nil {
		return err
	}
	cs, err := s.checkSet(ctx, a.WorkspaceID)
	if err != nil {
		return err
	}
	for i := range as {
		as[i].GroupID = groupID
		switch as[i].Kind {
		case domain.AssignPack:
			if _, ok := cs.packs[as[i].Ref]; !ok {
				return domain.Errorf(domain.EINVALID, "assignments[%d]: no pack %q", i, as[i].Ref)
			}
		case domain.AssignCheck:
			if _, ok := cs.checks[as[i].Ref]; !ok {
				return domain.Errorf(domain.EINVALID, "assignments[%d]: no check %q", i, as[i].Ref)
			}
		default:
			return domain.Errorf(domain.EINVALID, "assignments[%d].kind: must be %q or %q", i, domain.AssignPack, domain.AssignCheck)
		}
	}
	if err := s.Store.SetAssignments(ctx, a.WorkspaceID, groupID, as); err != nil {
		return err
	}
	s.Log.Info("assignments set", "workspace_id", a.WorkspaceID, "group_id", groupID, "count", len(as), "by", a.Login)
	refs := make([]string, len(as))
	for i, x := range as {
		refs[i] = x.Kind + ":" + x.Ref
	}
	s.Audit(ctx, a, "group.assignments", "group", groupID, map[string]any{"assigned": refs})
	s.reevaluateLater(a.WorkspaceID)
	return nil
}

// SaveCheck stores a workspace check from its YAML form. Built-in check
// IDs cannot be overwritten.
func (s *Service) SaveCheck(ctx context.Context, a Actor, yaml []byte, packID string) (*compliance.Check, error) {
	if err := a.Require(domain.PermPolicy); err != nil {
		return nil, err
	}
	c, err := compliance.ParseCheck(yaml)
	if err != nil {
		return nil, domain.Errorf(domain.EINVALID, "check: %v", err)
	}
	if _, err := compliance.CompileCheck(c); err != nil {
		return nil, domain.Errorf(domain.EINVALID, "condition: %v", err)
	}
	packs, _ := compliance.Builtin()
	for _, p := range packs {
		for _, bc := range p.Pack.Checks {
			if bc.ID == c.ID {
				return nil, domain.Errorf(domain.ECONFLICT, "id: %q is a built-in check; give yours another ID", c.ID)
			}
		}
	}
	canon, err := compliance.MarshalCheck(c)
	if err != nil {
		return nil, err
	}
	if err := s.Store.SaveCheck(ctx, a.WorkspaceID, &domain.StoredCheck{ID: c.ID, PackID: packID, YAML: string(canon)}); err != nil {
		return nil, err
	}
	s.Log.Info("check saved", "workspace_id", a.WorkspaceID, "check", c.ID, "by", a.Login)
	s.Audit(ctx, a, "check.save", "check", 0, map[string]string{"check": c.ID, "pack": packID, "title": c.Title})
	s.reevaluateLater(a.WorkspaceID)
	return c, nil
}

// DeleteCheck removes one of the workspace's own checks.
func (s *Service) DeleteCheck(ctx context.Context, a Actor, id string) error {
	if err := a.Require(domain.PermPolicy); err != nil {
		return err
	}
	if err := s.Store.DeleteCheck(ctx, a.WorkspaceID, id); err != nil {
		return err
	}
	s.Log.Info("check deleted", "workspace_id", a.WorkspaceID, "check", id, "by", a.Login)
	s.Audit(ctx, a, "check.delete", "check", 0, map[string]string{"check": id})
	s.reevaluateLater(a.WorkspaceID)
	return nil
}

// TestCheck evaluates a draft check on a host's latest successful snapshot,
// without saving anything: the editor's "test against host".
func (s *Service) TestCheck(ctx context.Context, a Actor, yaml []byte, hostID int64) (*compliance.Result, error) {
	// Part of editing a check, though it changes nothing.
	if err := a.Require(domain.PermPolicy); err != nil {
		return nil, err
	}
	c, err := compliance.ParseCheck(yaml)
	if err != nil {
		return nil, domain.Errorf(domain.EINVALID, "check: %v", err)
	}
	prg, err := compliance.CompileCheck(c)
	if err != nil {
		return nil, domain.Errorf(domain.EINVALID, "condition: %v", err)
	}
	snap, err := s.Store.LatestSnapshot(ctx, a.WorkspaceID, hostID)
	if err != nil {
		return nil, err
	}
	labels, err := s.Store.HostLabels(ctx, a.WorkspaceID, hostID)
	if err != nil {
		return nil, err
	}
	findings, _, err := s.Store.ListFindings(ctx, a.WorkspaceID, store.FindingFilter{HostID: hostID, IncludeMarked: true, Now: s.Now()})
	if err != nil {
		return nil, err
	}
	facts := compliance.Facts(snap.Report, compliance.Extra{Labels: labels, Findings: compliance.FindingStatsFrom(findings, s.Now()), Now: s.Now()})
	res := compliance.Evaluate(c, prg, facts)
	return &res, nil
}

// ReevaluateWorkspace evaluates every host of a workspace from its latest
// successful snapshot: after groups, assignments or checks change.
func (s *Service) ReevaluateWorkspace(ctx context.Context, workspaceID int64) (int, error) {
	hosts, err := s.Store.ListHosts(ctx, workspaceID, store.HostFilter{})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, h := range hosts {
		if h.LastSuccessAt == nil {
			continue
		}
		snap, err := s.Store.LatestSnapshot(ctx, workspaceID, h.ID)
		if err != nil {
			s.Log.Warn("re-evaluate: no snapshot", "workspace_id", workspaceID, "host_id", h.ID, "err", err)
			continue
		}
		if _, err := s.EvaluateHost(ctx, workspaceID, h.ID, snap.Report); err != nil {
			return n, fmt.Errorf("evaluate host %d: %w", h.ID, err)
		}
		n++
	}
	return n, nil
}

// reevaluateLater re-evaluates a workspace in the background, so that a
// form submit does not wait for the whole fleet. Overlapping requests for
// one workspace collapse into one run after the current one.
func (s *Service) reevaluateLater(workspaceID int64) {
	// Groups, checks or assignments changed: the items agents must collect
	// may have too, so no agent gets a cached config on its next poll.
	s.forgetAllAgentConfigs()
	if s.NoBackground {
		return
	}
	s.reevalMu.Lock()
	if s.reevalPending == nil {
		s.reevalPending = map[int64]bool{}
	}
	if s.reevalPending[workspaceID] {
		s.reevalMu.Unlock()
		return
	}
	s.reevalPending[workspaceID] = true
	s.reevalMu.Unlock()
	go func() {
		// Let a burst of edits (a form with several steps) settle first.
		time.Sleep(200 * time.Millisecond)
		s.reevalMu.Lock()
		delete(s.reevalPending, workspaceID)
		s.reevalMu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		n, err := s.ReevaluateWorkspace(ctx, workspaceID)
		if err != nil {
			s.Log.Error("re-evaluate workspace", "workspace_id", workspaceID, "err", err)
			return
		}
		s.Log.Info("workspace re-evaluated", "workspace_id", workspaceID, "hosts", n)
	}()
}

// CheckSummary counts one check's results.
type CheckSummary struct {
	CheckID       string `json:"check_id"`
	Title         string `json:"title"`
	Severity      string `json:"severity"`
	Pass          int    `json:"pass"`
	Fail          int    `json:"fail"`
	Error         int    `json:"error"`
	NotApplicable int    `json:"not_applicable"`
	// Excepted counts failing or erroring results under an active
	// exception: they count neither as failures nor in the score.
	Excepted int `json:"excepted"`
	// Failing counts the results whose status is fail, excepted or not:
	// the last point of the check's failing-hosts trend.
	Failing int `json:"-"`
}

// ComplianceSummary is the compliance of a set of hosts.
type ComplianceSummary struct {
	// Score is passes / (passes + failures), in percent; nil when nothing
	// was judged. Errors, not-applicable and excepted results do not count.
	Score   *float64             `json:"score"`
	Totals  CheckSummary         `json:"totals"`
	Checks  []CheckSummary       `json:"checks"`
	Results []domain.CheckResult `json:"results,omitempty"`
}

// Compliance summarises the latest results under a filter (a group, a host,
// a check), with the results themselves when withResults is set. The counts
// come from the store already grouped by check and status (for the whole
// workspace from counters kept on write), so that the overview does not read
// every result of a 10,000-host fleet.
func (s *Service) Compliance(ctx context.Context, a Actor, f store.CheckResultFilter, withResults bool) (*ComplianceSummary, error) {
	now := s.Now()
	counts, err := s.Store.CheckCounts(ctx, a.WorkspaceID, f, now)
	if err != nil {
		return nil, err
	}
	cs, err := s.checkSet(ctx, a.WorkspaceID)
	if err != nil {
		return nil, err
	}
	sum := &ComplianceSummary{}
	var c *CheckSummary
	for _, n := range counts {
		if c == nil || c.CheckID != n.CheckID {
			sum.Checks = append(sum.Checks, CheckSummary{CheckID: n.CheckID})
			c = &sum.Checks[len(sum.Checks)-1]
			if def := cs.checks[n.CheckID]; def != nil {
				c.Title, c.Severity = def.Title, def.Severity
			}
		}
		if n.Status == domain.CheckFail {
			c.Failing += n.Results
		}
		for _, t := range []*CheckSummary{c, &sum.Totals} {
			t.Excepted += n.Excepted
			judged := n.Results - n.Excepted
			switch n.Status {
			case domain.CheckPass:
				t.Pass += judged
			case domain.CheckFail:
				t.Fail += judged
			case domain.CheckError:
				t.Error += judged
			default:
				t.NotApplicable += judged
			}
		}
	}
	if judged := sum.Totals.Pass + sum.Totals.Fail; judged > 0 {
		score := float64(sum.Totals.Pass) * 100 / float64(judged)
		sum.Score = &score
	}
	if withResults {
		if sum.Results, err = s.Store.ListCheckResults(ctx, a.WorkspaceID, f); err != nil {
			return nil, err
		}
	}
	return sum, nil
}
