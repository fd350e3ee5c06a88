package service

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/vuln/sapnotes"
)

// SAP note tabs: what the SAP Security Notes page and API filter on.
const (
	SAPTabUnresolved   = "unresolved"    // at least one system confirmed affected
	SAPTabManualReview = "manual_review" // open, but undecidable from the data
	SAPTabResolved     = "resolved"      // no open finding left
)

// SAPInScope reports whether the workspace has SAP in scope.
func (s *Service) SAPInScope(ctx context.Context, a Actor) (bool, error) {
	if err := a.Require(domain.PermView); err != nil {
		return false, err
	}
	return s.Store.SAPInScope(ctx, a.WorkspaceID)
}

// SetSAPInScope switches the SAP probes and note matching on or off for
// the workspace. It is a workspace setting (PermSettings). Switching it
// on matches the systems already reported; switching it off keeps the
// data but stops asking agents for it.
func (s *Service) SetSAPInScope(ctx context.Context, a Actor, on bool) error {
	if err := a.Require(domain.PermSettings); err != nil {
		return err
	}
	if err := s.Store.SetSAPInScope(ctx, a.WorkspaceID, on); err != nil {
		return err
	}
	s.Audit(ctx, a, "workspace.sap_scope", "workspace", a.WorkspaceID, map[string]any{"sap_in_scope": on})
	// Agents must see HostSpec.SAP change at their next poll, not when
	// their cached config expires.
	if agents, err := s.Store.ListAgents(ctx, a.WorkspaceID); err == nil {
		for _, ag := range agents {
			s.forgetAgentConfig(ag.ID)
		}
	}
	if on {
		rows, err := s.Store.ListSAPSystems(ctx, a.WorkspaceID, 0)
		if err != nil {
			return err
		}
		done := map[int64]bool{}
		for _, r := range rows {
			if !done[r.HostID] {
				done[r.HostID] = true
				if _, err := s.MatchSAPHost(ctx, a.WorkspaceID, r.HostID); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// ingestSAP stores the SAP systems of a host's newest report when its
// agent ran SAP discovery, then matches them. A report without the SAP
// probe leaves what was known.
func (s *Service) ingestSAP(ctx context.Context, workspaceID int64, rep *inventory.HostReport) error {
	if rep == nil || !rep.HasSAPScan() {
		return nil
	}
	if err := s.Store.ReplaceSAPSystems(ctx, workspaceID, rep.HostID, rep.SAP, s.Now()); err != nil {
		return err
	}
	_, err := s.MatchSAPHost(ctx, workspaceID, rep.HostID)
	return err
}

// MatchSAPHost matches the host's SAP systems against the catalogue and
// syncs its SAP findings. Nothing happens while SAP is out of scope.
func (s *Service) MatchSAPHost(ctx context.Context, workspaceID, hostID int64) (store.SyncStats, error) {
	on, err := s.Store.SAPInScope(ctx, workspaceID)
	if err != nil || !on {
		return store.SyncStats{}, err
	}
	notes, err := s.Store.SAPNotes(ctx)
	if err != nil {
		return store.SyncStats{}, err
	}
	return s.matchSAPHost(ctx, workspaceID, hostID, notes)
}

// matchSAPHost matches one host against notes, loaded once by callers
// that match many hosts.
func (s *Service) matchSAPHost(ctx context.Context, workspaceID, hostID int64, notes []*sapnotes.Note) (store.SyncStats, error) {
	rows, err := s.Store.ListSAPSystems(ctx, workspaceID, hostID)
	if err != nil {
		return store.SyncStats{}, err
	}
	systems := make([]inventory.SAPSystem, len(rows))
	for i, r := range rows {
		systems[i] = r.System
	}
	matches := sapnotes.MatchAll(notes, systems)
	st, err := s.Store.SyncSAPFindings(ctx, workspaceID, hostID, matches, s.Now())
	if err != nil {
		return st, fmt.Errorf("sync SAP findings of host %d: %w", hostID, err)
	}
	s.Log.Debug("SAP notes matched", "workspace_id", workspaceID, "host_id", hostID, "systems", len(systems),
		"opened", st.Opened, "resolved", st.Resolved)
	return st, nil
}

// RematchSAP matches every SAP host of every workspace with SAP in scope:
// run after the catalogue changed. It returns the hosts matched.
func (s *Service) RematchSAP(ctx context.Context) (int, error) {
	hosts, err := s.Store.SAPHosts(ctx)
	if err != nil {
		return 0, err
	}
	notes, err := s.Store.SAPNotes(ctx)
	if err != nil {
		return 0, err
	}
	// SAPHosts lists only workspaces with SAP in scope.
	for i, h := range hosts {
		if _, err := s.matchSAPHost(ctx, h.WorkspaceID, h.HostID, notes); err != nil {
			return i, err
		}
	}
	return len(hosts), nil
}

// SAPSystems lists the workspace's SAP systems.
func (s *Service) SAPSystems(ctx context.Context, a Actor) ([]store.SAPSystemRow, error) {
	if err := a.Require(domain.PermView); err != nil {
		return nil, err
	}
	return s.Store.ListSAPSystems(ctx, a.WorkspaceID, 0)
}

// SAPNoteView is one note with its findings in the workspace.
type SAPNoteView struct {
	Note     *sapnotes.Note
	Tab      string
	CVEs     []SAPCVE
	Findings []sapnotes.Finding
	// Affected counts the open findings; Systems names them "SID on host".
	Affected int
	Systems  []string
	DaysOpen int // since the oldest open finding was first seen; for resolved notes, how long it was open
	KEV      bool
}

// SAPCVE is a CVE a note links to, with what the feeds know of it.
type SAPCVE struct {
	ID string
	store.CVEInfo
}

// SAPNotes returns the notes that concern the workspace's systems, each
// in one tab: unresolved (a system is confirmed affected), manual review
// (only undecidable findings open) or resolved (none open), most urgent
// first. tab "" returns all three.
func (s *Service) SAPNotes(ctx context.Context, a Actor, tab string) ([]SAPNoteView, error) {
	if err := a.Require(domain.PermView); err != nil {
		return nil, err
	}
	switch tab {
	case "", SAPTabUnresolved, SAPTabManualReview, SAPTabResolved:
	default:
		return nil, domain.Errorf(domain.EINVALID, "status %q: want %s, %s or %s", tab, SAPTabUnresolved, SAPTabManualReview, SAPTabResolved)
	}
	fs, err := s.Store.ListSAPFindings(ctx, a.WorkspaceID, store.SAPFindingFilter{})
	if err != nil {
		return nil, err
	}
	byNote := map[string][]sapnotes.Finding{}
	var order []string
	for _, f := range fs {
		if _, ok := byNote[f.Note]; !ok {
			order = append(order, f.Note)
		}
		byNote[f.Note] = append(byNote[f.Note], f)
	}
	catalogue := map[string]*sapnotes.Note{}
	if len(order) > 0 {
		all, err := s.Store.SAPNotes(ctx)
		if err != nil {
			return nil, err
		}
		for _, n := range all {
			catalogue[n.Number] = n
		}
	}
	now := s.Now()
	var out []SAPNoteView
	var cves []string
	for _, num := range order {
		v := sapNoteView(byNote[num], now)
		if tab != "" && v.Tab != tab {
			continue
		}
		n, ok := catalogue[num]
		if !ok {
			// A note withdrawn from the catalogue still shows its findings.
			n = &sapnotes.Note{Number: num, Title: "(no longer in the catalogue)"}
		}
		v.Note = n
		v.KEV = n.KEVListed
		cves = append(cves, n.CVEs...)
		out = append(out, v)
	}
	info, err := s.Store.CVEContext(ctx, cves)
	if err != nil {
		return nil, err
	}
	for i := range out {
		for _, id := range out[i].Note.CVEs {
			c := SAPCVE{ID: id, CVEInfo: info[id]}
			out[i].KEV = out[i].KEV || c.KEV
			out[i].CVEs = append(out[i].CVEs, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		pi, pj := sapnotes.PriorityRank(out[i].Note.Priority), sapnotes.PriorityRank(out[j].Note.Priority)
		if pi != pj {
			return pi < pj
		}
		if out[i].Note.CVSSScore != out[j].Note.CVSSScore {
			return out[i].Note.CVSSScore > out[j].Note.CVSSScore
		}
		return out[i].Note.Number > out[j].Note.Number
	})
	return out, nil
}

func sapNoteView(fs []sapnotes.Finding, now time.Time) SAPNoteView {
	v := SAPNoteView{Findings: fs, Tab: SAPTabResolved}
	var oldest time.Time
	confirmed := false
	var lastResolved time.Time
	for _, f := range fs {
		if f.Status == sapnotes.FindingOpen {
			v.Affected++
			v.Systems = append(v.Systems, f.SID+" on "+f.HostName)
			if oldest.IsZero() || f.FirstSeen.Before(oldest) {
				oldest = f.FirstSeen
			}
			confirmed = confirmed || f.Verdict == sapnotes.Applies
		} else if f.ResolvedAt != nil && f.ResolvedAt.After(lastResolved) {
			lastResolved = *f.ResolvedAt
		}
	}
	switch {
	case confirmed:
		v.Tab = SAPTabUnresolved
	case v.Affected > 0:
		v.Tab = SAPTabManualReview
	}
	if v.Affected > 0 {
		v.DaysOpen = int(now.Sub(oldest).Hours() / 24)
	} else {
		first := fs[0].FirstSeen
		for _, f := range fs {
			if f.FirstSeen.Before(first) {
				first = f.FirstSeen
			}
		}
		v.DaysOpen = int(lastResolved.Sub(first).Hours() / 24)
	}
	sort.Strings(v.Systems)
	return v
}

// ResolveSAPNote resolves a note's open findings by hand (hostID 0: on
// every host) with a reason, e.g. "implemented with SNOTE on 2026-08-01".
// They stay resolved across rescans until reopened.
func (s *Service) ResolveSAPNote(ctx context.Context, a Actor, note string, hostID int64, reason string) (int, error) {
	if err := a.Require(domain.PermExceptions); err != nil {
		return 0, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return 0, domain.Errorf(domain.EINVALID, "a reason is required to resolve a note by hand")
	}
	if len(reason) > 1000 {
		return 0, domain.Errorf(domain.EINVALID, "reason longer than 1000 characters")
	}
	n, err := s.Store.ResolveSAPFindings(ctx, a.WorkspaceID, note, hostID, reason, a.Login, s.Now())
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, domain.Errorf(domain.ENOTFOUND, "no open finding of SAP note %s", note)
	}
	s.Audit(ctx, a, "sap_note.resolve", "sap_note", 0, map[string]any{"note": note, "host_id": hostID, "reason": reason, "findings": n})
	return n, nil
}

// ReopenSAPNote undoes manual resolutions of a note and matches again.
func (s *Service) ReopenSAPNote(ctx context.Context, a Actor, note string, hostID int64) (int, error) {
	if err := a.Require(domain.PermExceptions); err != nil {
		return 0, err
	}
	n, err := s.Store.ReopenSAPFindings(ctx, a.WorkspaceID, note, hostID, s.Now())
	if err != nil {
		return 0, err
	}
	s.Audit(ctx, a, "sap_note.reopen", "sap_note", 0, map[string]any{"note": note, "host_id": hostID, "findings": n})
	hosts := map[int64]bool{}
	fs, err := s.Store.ListSAPFindings(ctx, a.WorkspaceID, store.SAPFindingFilter{Note: note, HostID: hostID})
	if err != nil {
		return n, err
	}
	for _, f := range fs {
		if !hosts[f.HostID] {
			hosts[f.HostID] = true
			if _, err := s.MatchSAPHost(ctx, a.WorkspaceID, f.HostID); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}
