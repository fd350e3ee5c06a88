package service

import (
	"context"
	"regexp"
	"strings"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
)

// MyWorkspaces lists the workspaces the actor belongs to, for the switcher.
func (s *Service) MyWorkspaces(ctx context.Context, a Actor) ([]domain.WorkspaceRole, error) {
	return s.Store.ListUserWorkspaces(ctx, a.UserID)
}

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// CreateWorkspace creates a workspace (a client of a service provider, say)
// and makes its creator its admin. Only an admin of the current workspace
// may create one.
func (s *Service) CreateWorkspace(ctx context.Context, a Actor, name, slug string) (*domain.Workspace, error) {
	if err := a.Require(domain.PermMembers); err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	slug = strings.ToLower(strings.TrimSpace(slug))
	if name == "" || len(name) > 100 {
		return nil, domain.Errorf(domain.EINVALID, "name: required, at most 100 characters")
	}
	if slug == "" {
		slug = slugify(name)
	}
	if !slugRE.MatchString(slug) {
		return nil, domain.Errorf(domain.EINVALID, "slug: lower-case letters, digits and dashes, starting with a letter or digit")
	}
	ws := &domain.Workspace{Name: name, Slug: slug, Schedule: inventory.Schedule{IntervalSeconds: 3600, Anchor: "00:00"}}
	if err := s.Store.CreateWorkspace(ctx, ws); err != nil {
		return nil, err
	}
	if err := s.Store.SetMembership(ctx, domain.Membership{WorkspaceID: ws.ID, UserID: a.UserID, Role: domain.RoleAdmin}); err != nil {
		return nil, err
	}
	s.Audit(ctx, a, "workspace.create", "workspace", ws.ID, map[string]string{"name": ws.Name, "slug": ws.Slug})
	in := a
	in.WorkspaceID = ws.ID
	s.Audit(ctx, in, "workspace.create", "workspace", ws.ID, map[string]string{"name": ws.Name, "slug": ws.Slug, "from_workspace": slugOrID(ctx, s, a.WorkspaceID)})
	return ws, nil
}

func slugOrID(ctx context.Context, s *Service, id int64) string {
	if w, err := s.Store.GetWorkspace(ctx, id); err == nil {
		return w.Slug
	}
	return ""
}

func slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimRight(b.String(), "-")
}
