package service

import (
	"context"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/secrets"
)

// Invitation lifetimes: a week by default, at most a month.
const (
	DefaultInvitationLifetime = 7 * 24 * time.Hour
	MaxInvitationLifetime     = 30 * 24 * time.Hour
)

// PrefixInvitation starts invitation tokens, so that a leaked one is
// recognisable.
const PrefixInvitation = "vgi_"

// Invite creates a one-time invitation into the actor's workspace with the
// given role, and returns it with its token (put in the link; shown once).
func (s *Service) Invite(ctx context.Context, a Actor, role, note string, lifetime time.Duration) (*domain.Invitation, string, error) {
	if err := a.Require(domain.PermMembers); err != nil {
		return nil, "", err
	}
	if !domain.ValidRole(role) {
		return nil, "", domain.Errorf(domain.EINVALID, "role: must be admin, operator or viewer")
	}
	note = strings.TrimSpace(note)
	if len(note) > 200 {
		return nil, "", domain.Errorf(domain.EINVALID, "note: at most 200 characters")
	}
	if lifetime == 0 {
		lifetime = DefaultInvitationLifetime
	}
	if lifetime < time.Hour || lifetime > MaxInvitationLifetime {
		return nil, "", domain.Errorf(domain.EINVALID, "expiry: between 1 hour and 30 days")
	}
	tok, hash, err := secrets.NewToken(PrefixInvitation)
	if err != nil {
		return nil, "", err
	}
	now := s.Now()
	inv := &domain.Invitation{WorkspaceID: a.WorkspaceID, Role: role, Note: note, TokenHash: hash,
		CreatedBy: a.UserID, CreatedAt: now, ExpiresAt: now.Add(lifetime)}
	if err := s.Store.CreateInvitation(ctx, inv); err != nil {
		return nil, "", err
	}
	s.Audit(ctx, a, "invitation.create", "invitation", inv.ID, map[string]any{"role": role, "note": note, "expires_at": inv.ExpiresAt})
	return inv, tok, nil
}

// ListInvitations lists the workspace's invitations, used and pending.
func (s *Service) ListInvitations(ctx context.Context, a Actor) ([]domain.Invitation, error) {
	if err := a.Require(domain.PermMembers); err != nil {
		return nil, err
	}
	return s.Store.ListInvitations(ctx, a.WorkspaceID)
}

// RevokeInvitation deletes an invitation so that its link stops working.
func (s *Service) RevokeInvitation(ctx context.Context, a Actor, id int64) error {
	if err := a.Require(domain.PermMembers); err != nil {
		return err
	}
	if err := s.Store.DeleteInvitation(ctx, a.WorkspaceID, id); err != nil {
		return err
	}
	s.Audit(ctx, a, "invitation.revoke", "invitation", id, nil)
	return nil
}

// InvitationInfo is what the acceptance page shows before anyone logs in.
type InvitationInfo struct {
	WorkspaceName string
	Role          string
	ExpiresAt     time.Time
}

var errBadInvitation = domain.Errorf(domain.ENOTFOUND, "this invitation link is not valid: it was already used, has expired or was revoked")

// LookupInvitation checks an invitation token without using it.
func (s *Service) LookupInvitation(ctx context.Context, token string) (*InvitationInfo, error) {
	inv, err := s.validInvitation(ctx, token)
	if err != nil {
		return nil, err
	}
	ws, err := s.Store.GetWorkspace(ctx, inv.WorkspaceID)
	if err != nil {
		return nil, err
	}
	return &InvitationInfo{WorkspaceName: ws.Name, Role: inv.Role, ExpiresAt: inv.ExpiresAt}, nil
}

func (s *Service) validInvitation(ctx context.Context, token string) (*domain.Invitation, error) {
	if !strings.HasPrefix(token, PrefixInvitation) {
		return nil, errBadInvitation
	}
	inv, err := s.Store.GetInvitationByHash(ctx, secrets.HashToken(token))
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return nil, errBadInvitation
	} else if err != nil {
		return nil, err
	}
	if inv.UsedAt != nil || !s.Now().Before(inv.ExpiresAt) {
		return nil, errBadInvitation
	}
	return inv, nil
}

// AcceptInvitation uses an invitation. With existing non-nil (a logged-in
// user), that user joins the workspace; otherwise a new user is created
// with login and password. It returns the actor in the invited workspace.
func (s *Service) AcceptInvitation(ctx context.Context, token string, existing *Actor, login, password string) (*Actor, error) {
	if _, err := s.validInvitation(ctx, token); err != nil {
		return nil, err
	}
	u := &domain.User{}
	if existing != nil {
		u.ID, u.Login = existing.UserID, existing.Login
	} else {
		login = strings.TrimSpace(login)
		if !loginRE.MatchString(login) {
			return nil, domain.Errorf(domain.EINVALID, "login: 2 to 64 letters, digits, dots, dashes, underscores or @")
		}
		if err := validPassword(password); err != nil {
			return nil, err
		}
		hash, err := secrets.HashPassword(password)
		if err != nil {
			return nil, err
		}
		u.Login, u.PasswordHash, u.CreatedAt = login, hash, s.Now()
	}
	inv, err := s.Store.AcceptInvitation(ctx, secrets.HashToken(token), u, s.Now())
	if domain.ErrorCode(err) == domain.ECONFLICT && existing != nil {
		return nil, errBadInvitation
	} else if err != nil {
		return nil, err
	}
	a := Actor{UserID: u.ID, Login: u.Login, WorkspaceID: inv.WorkspaceID, Role: inv.Role}
	s.Audit(ctx, a, "invitation.accept", "invitation", inv.ID, map[string]any{"role": inv.Role, "new_user": existing == nil})
	return &a, nil
}
