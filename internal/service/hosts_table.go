package service

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/vuln"
)

// HostTable returns one page of the hosts table. The stale rule is the
// workspace schedule's (three intervals).
func (s *Service) HostTable(ctx context.Context, a Actor, f store.HostTableFilter) ([]store.HostTableRow, int, error) {
	if err := a.Require(domain.PermView); err != nil {
		return nil, 0, err
	}
	ws, err := s.Store.GetWorkspace(ctx, a.WorkspaceID)
	if err != nil {
		return nil, 0, err
	}
	f.Now, f.StaleAfter = s.Now(), staleAfter(ws.Schedule.Interval())
	return s.Store.HostTable(ctx, a.WorkspaceID, f)
}

// HostFacets lists the values the hosts table's filters offer.
func (s *Service) HostFacets(ctx context.Context, a Actor) (*store.HostFacets, error) {
	if err := a.Require(domain.PermView); err != nil {
		return nil, err
	}
	return s.Store.HostFacets(ctx, a.WorkspaceID)
}

// FleetCounts counts the workspace's hosts by state.
func (s *Service) FleetCounts(ctx context.Context, a Actor) (*store.FleetCounts, error) {
	if err := a.Require(domain.PermView); err != nil {
		return nil, err
	}
	ws, err := s.Store.GetWorkspace(ctx, a.WorkspaceID)
	if err != nil {
		return nil, err
	}
	return s.Store.FleetCounts(ctx, a.WorkspaceID, s.Now(), staleAfter(ws.Schedule.Interval()))
}

// ListHostFilters returns the workspace's saved host filters.
func (s *Service) ListHostFilters(ctx context.Context, a Actor) ([]domain.SavedFilter, error) {
	if err := a.Require(domain.PermView); err != nil {
		return nil, err
	}
	return s.Store.ListFilters(ctx, a.WorkspaceID)
}

// SaveHostFilter saves the hosts table's query string under a name; a
// filter of the same name is replaced.
func (s *Service) SaveHostFilter(ctx context.Context, a Actor, name, query string) (*domain.SavedFilter, error) {
	if err := a.Require(domain.PermHosts); err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	switch {
	case name == "" || len(name) > 100:
		return nil, domain.Errorf(domain.EINVALID, "name: required, at most 100 characters")
	case len(query) > 2000:
		return nil, domain.Errorf(domain.EINVALID, "query: longer than 2000 characters")
	}
	f := &domain.SavedFilter{WorkspaceID: a.WorkspaceID, Name: name, Query: query}
	if err := s.Store.SaveFilter(ctx, f); err != nil {
		return nil, err
	}
	s.Audit(ctx, a, "host_filter.save", "host_filter", f.ID, map[string]any{"name": name, "query": query})
	return f, nil
}

// DeleteHostFilter removes a saved filter.
func (s *Service) DeleteHostFilter(ctx context.Context, a Actor, id int64) error {
	if err := a.Require(domain.PermHosts); err != nil {
		return err
	}
	if err := s.Store.DeleteFilter(ctx, a.WorkspaceID, id); err != nil {
		return err
	}
	s.Audit(ctx, a, "host_filter.delete", "host_filter", id, nil)
	return nil
}

// FilterExpression turns a hosts-table filter into a group membership
// expression over the facts of a host's latest report, so that a saved
// filter can become a dynamic group. Filters on what a report does not
// say (scan status, agent, another group) cannot be expressed and are
// refused with the reason; the name search becomes a search of the
// reported hostname.
func FilterExpression(f store.HostTableFilter) (string, error) {
	var parts []string
	if f.Status != "" {
		return "", domain.Errorf(domain.EINVALID, "status: a group is evaluated on a host's report, which does not know whether the host is stale or failing; remove the status filter to save it as a group")
	}
	if f.GroupID != 0 || f.AgentID != 0 {
		return "", domain.Errorf(domain.EINVALID, "group, agent: a group expression cannot refer to another group or an agent; remove those filters to save it as a group")
	}
	if f.Query != "" {
		parts = append(parts, "hostname.contains("+strconv.Quote(f.Query)+")")
	}
	if f.OS != "" {
		id, ver, hasVer := strings.Cut(f.OS, " ")
		parts = append(parts, "os.id == "+strconv.Quote(id))
		if hasVer {
			parts = append(parts, "os.version_id == "+strconv.Quote(ver))
		}
	}
	if f.LabelKey != "" {
		k := strconv.Quote(f.LabelKey)
		if f.LabelVal != "" {
			parts = append(parts, k+" in labels && labels["+k+"] == "+strconv.Quote(f.LabelVal))
		} else {
			parts = append(parts, k+" in labels")
		}
	}
	if f.Severity != "" {
		i := slices.Index(vuln.Severities, f.Severity)
		if i < 0 {
			return "", domain.Errorf(domain.EINVALID, "severity: unknown %q", f.Severity)
		}
		var anyOf []string
		for _, sev := range vuln.Severities[:i+1] {
			q := strconv.Quote(sev)
			anyOf = append(anyOf, "("+q+" in findings.open_by_severity && findings.open_by_severity["+q+"] > 0)")
		}
		parts = append(parts, "("+strings.Join(anyOf, " || ")+")")
	}
	if len(parts) == 0 {
		return "", domain.Errorf(domain.EINVALID, "filter: empty; a group of every host needs no filter (use the expression true)")
	}
	return strings.Join(parts, " && "), nil
}

// FilterToGroup creates a dynamic group whose expression is the filter's.
func (s *Service) FilterToGroup(ctx context.Context, a Actor, name string, f store.HostTableFilter) (*domain.Group, error) {
	if err := a.Require(domain.PermHosts); err != nil {
		return nil, err // before validating: a viewer is refused, whatever they sent
	}
	expr, err := FilterExpression(f)
	if err != nil {
		return nil, err
	}
	desc := "Saved from the hosts table filter"
	return s.SaveGroup(ctx, a, 0, GroupInput{Name: &name, Expression: &expr, Description: &desc})
}

// Bulk actions on selected hosts.
const (
	BulkAssignGroup   = "group"
	BulkSetCredential = "credential"
	BulkSetLabel      = "label"
	BulkScanNow       = "scan"
)

// BulkInput is one bulk action on the selected hosts.
type BulkInput struct {
	Action       string
	HostIDs      []int64
	GroupID      int64
	CredentialID int64
	LabelKey     string
	LabelValue   string
}

// maxBulkHosts bounds one action: a page of the table is 50 hosts, "all
// matching" a few thousand.
const maxBulkHosts = 10000

// BulkHosts applies one action to the selected hosts and says what it did.
// Hosts not in the caller's workspace are refused before anything changes.
func (s *Service) BulkHosts(ctx context.Context, a Actor, in BulkInput) (string, error) {
	// Every bulk action changes hosts: refuse before validating.
	if err := a.Require(domain.PermHosts); err != nil {
		return "", err
	}
	if len(in.HostIDs) == 0 {
		return "", domain.Errorf(domain.EINVALID, "hosts: select at least one host")
	}
	if len(in.HostIDs) > maxBulkHosts {
		return "", domain.Errorf(domain.EINVALID, "hosts: at most %d at once", maxBulkHosts)
	}
	perm := domain.PermHosts
	switch in.Action {
	case BulkSetCredential:
		perm = domain.PermCredentials
	case BulkScanNow:
		perm = domain.PermScans
	}
	if err := a.Require(perm); err != nil {
		return "", err
	}
	hosts := make([]*domain.Host, 0, len(in.HostIDs))
	for _, id := range in.HostIDs {
		h, err := s.Store.GetHost(ctx, a.WorkspaceID, id)
		if err != nil {
			return "", err
		}
		hosts = append(hosts, h)
	}
	n := len(hosts)
	switch in.Action {
	case BulkAssignGroup:
		g, err := s.Store.GetGroup(ctx, a.WorkspaceID, in.GroupID)
		if err != nil {
			return "", err
		}
		added, err := s.Store.AddStaticMembers(ctx, a.WorkspaceID, g.ID, in.HostIDs)
		if err != nil {
			return "", err
		}
		s.Audit(ctx, a, "group.add_members", "group", g.ID, map[string]any{"hosts": n, "added": added})
		s.reevaluateLater(a.WorkspaceID)
		return fmt.Sprintf("%d of %d hosts added to group %s (the others were members already).", added, n, g.Name), nil
	case BulkSetCredential:
		c, err := s.Store.GetCredential(ctx, a.WorkspaceID, in.CredentialID)
		if err != nil {
			return "", err
		}
		for _, h := range hosts {
			if _, err := s.UpdateHost(ctx, a, h.ID, domain.HostInput{CredentialID: &c.ID}); err != nil {
				return "", fmt.Errorf("host %s: %w", h.Name, err)
			}
		}
		s.forgetAllAgentConfigs()
		return fmt.Sprintf("%d hosts now log in with credential %s.", n, c.Name), nil
	case BulkSetLabel:
		key := strings.TrimSpace(in.LabelKey)
		if key == "" {
			return "", domain.Errorf(domain.EINVALID, "label: give key=value")
		}
		for _, h := range hosts {
			labels, err := s.Store.HostLabels(ctx, a.WorkspaceID, h.ID)
			if err != nil {
				return "", err
			}
			labels[key] = strings.TrimSpace(in.LabelValue)
			if err := s.SetHostLabels(ctx, a, h.ID, labels); err != nil {
				return "", fmt.Errorf("host %s: %w", h.Name, err)
			}
		}
		return fmt.Sprintf("Label %s=%s set on %d hosts.", key, strings.TrimSpace(in.LabelValue), n), nil
	case BulkScanNow:
		// Agents scan all their hosts on a run-now request: ask each agent
		// of the selection once.
		var agents []int64
		unassigned := 0
		for _, h := range hosts {
			if h.AgentID == nil {
				unassigned++
			} else if !slices.Contains(agents, *h.AgentID) {
				agents = append(agents, *h.AgentID)
			}
		}
		for _, id := range agents {
			if _, err := s.RunAgentNow(ctx, a, id); err != nil {
				return "", err
			}
		}
		msg := fmt.Sprintf("%d %s asked to scan now; each scans all of its hosts on its next poll.", len(agents), plural(len(agents), "agent", "agents"))
		if unassigned > 0 {
			msg += fmt.Sprintf(" %d selected %s no agent yet.", unassigned, plural(unassigned, "host has", "hosts have"))
		}
		return msg, nil
	default:
		return "", domain.Errorf(domain.EINVALID, "action: must be group, credential, label or scan")
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// forgetAllAgentConfigs drops every cached agent config.
func (s *Service) forgetAllAgentConfigs() {
	s.dash.mu.Lock()
	s.dash.configs = nil
	s.dash.mu.Unlock()
}
