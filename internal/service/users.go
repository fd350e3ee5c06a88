package service

import (
	"context"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/secrets"
)

// MinPasswordLength is the shortest password accepted for a new password.
const MinPasswordLength = 12

func validPassword(pw string) error {
	if utf8.RuneCountInString(pw) < MinPasswordLength {
		return domain.Errorf(domain.EINVALID, "password: at least %d characters", MinPasswordLength)
	}
	if len(pw) > 1024 {
		return domain.Errorf(domain.EINVALID, "password: at most 1024 bytes")
	}
	return nil
}

// ListMembers lists the workspace's users and their roles. Admins only:
// the list of who has access is itself access-control data.
func (s *Service) ListMembers(ctx context.Context, a Actor) ([]domain.Member, error) {
	if err := a.Require(domain.PermMembers); err != nil {
		return nil, err
	}
	return s.Store.ListMembers(ctx, a.WorkspaceID)
}

// SetMemberRole changes a member's role. The last admin cannot be demoted,
// or the workspace would have nobody to manage it.
func (s *Service) SetMemberRole(ctx context.Context, a Actor, userID int64, role string) error {
	if err := a.Require(domain.PermMembers); err != nil {
		return err
	}
	m, err := s.Store.GetMembership(ctx, a.WorkspaceID, userID)
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return domain.Errorf(domain.ENOTFOUND, "user %d is not a member of this workspace", userID)
	} else if err != nil {
		return err
	}
	if !domain.ValidRole(role) {
		return domain.Errorf(domain.EINVALID, "role: must be admin, operator or viewer")
	}
	if m.Role == role {
		return nil
	}
	if m.Role == domain.RoleAdmin {
		if err := s.keepAnAdmin(ctx, a.WorkspaceID); err != nil {
			return err
		}
	}
	if err := s.Store.SetMembership(ctx, domain.Membership{WorkspaceID: a.WorkspaceID, UserID: userID, Role: role}); err != nil {
		return err
	}
	s.Audit(ctx, a, "member.role", "user", userID, map[string]string{"from": m.Role, "to": role})
	return nil
}

// RemoveMember takes a user out of the workspace, ending their sessions and
// API tokens there. The user account stays (it may belong to others).
func (s *Service) RemoveMember(ctx context.Context, a Actor, userID int64) error {
	if err := a.Require(domain.PermMembers); err != nil {
		return err
	}
	m, err := s.Store.GetMembership(ctx, a.WorkspaceID, userID)
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return domain.Errorf(domain.ENOTFOUND, "user %d is not a member of this workspace", userID)
	} else if err != nil {
		return err
	}
	if m.Role == domain.RoleAdmin {
		if err := s.keepAnAdmin(ctx, a.WorkspaceID); err != nil {
			return err
		}
	}
	if err := s.Store.DeleteMembership(ctx, a.WorkspaceID, userID); err != nil {
		return err
	}
	s.Audit(ctx, a, "member.remove", "user", userID, map[string]string{"role": m.Role})
	return nil
}

// keepAnAdmin fails when removing one admin would leave none. The count and
// the change are not one transaction; two admins removing each other at
// the same instant could both pass, which an admin of another workspace
// (or `vigil admin create`) can repair.
func (s *Service) keepAnAdmin(ctx context.Context, workspaceID int64) error {
	n, err := s.Store.CountAdmins(ctx, workspaceID)
	if err != nil {
		return err
	}
	if n <= 1 {
		return domain.Errorf(domain.ECONFLICT, "the workspace's last admin cannot be removed or demoted; make someone else admin first")
	}
	return nil
}

// ErrWrongPassword is ChangePassword's answer to a wrong current password,
// so that callers can count it as a failed login.
var ErrWrongPassword = domain.Errorf(domain.EINVALID, "current password: wrong password")

// ChangePassword sets a new password after checking the current one, and
// ends the user's other sessions (keepSession is the caller's cookie; empty
// for API calls, which then end all of them).
func (s *Service) ChangePassword(ctx context.Context, a Actor, current, next, keepSession string) error {
	if err := a.Require(domain.PermAccount); err != nil {
		return err
	}
	u, err := s.Store.GetUser(ctx, a.UserID)
	if err != nil {
		return err
	}
	if !secrets.CheckPassword(u.PasswordHash, current) {
		return ErrWrongPassword
	}
	if err := validPassword(next); err != nil {
		return err
	}
	if next == current {
		return domain.Errorf(domain.EINVALID, "password: the new password is the current one")
	}
	hash, err := secrets.HashPassword(next)
	if err != nil {
		return err
	}
	if err := s.Store.SetPasswordHash(ctx, a.UserID, hash); err != nil {
		return err
	}
	var keep []byte
	if keepSession != "" {
		keep = sessionHash(keepSession)
	}
	n, err := s.Store.DeleteOtherSessions(ctx, a.UserID, keep)
	if err != nil {
		return err
	}
	s.Audit(ctx, a, "user.password", "user", a.UserID, map[string]int64{"sessions_ended": n})
	return nil
}

// ListAPITokens lists the actor's own tokens in the current workspace.
func (s *Service) ListAPITokens(ctx context.Context, a Actor) ([]domain.APIToken, error) {
	if err := a.Require(domain.PermAccount); err != nil {
		return nil, err
	}
	return s.Store.ListAPITokens(ctx, a.WorkspaceID, a.UserID)
}

// NewAPIToken issues a token for the actor in the current workspace with
// the actor's role there; the token is returned once and never again.
func (s *Service) NewAPIToken(ctx context.Context, a Actor, name string) (*domain.APIToken, string, error) {
	if err := a.Require(domain.PermAccount); err != nil {
		return nil, "", err
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return nil, "", domain.Errorf(domain.EINVALID, "name: required, at most 100 characters")
	}
	tok, hash, err := secrets.NewToken(secrets.PrefixAPIToken)
	if err != nil {
		return nil, "", err
	}
	t := &domain.APIToken{WorkspaceID: a.WorkspaceID, UserID: a.UserID, Name: name, Prefix: secrets.DisplayPrefix(tok), Hash: hash, CreatedAt: s.Now()}
	if err := s.Store.CreateAPIToken(ctx, t); err != nil {
		return nil, "", err
	}
	s.Audit(ctx, a, "token.create", "api_token", t.ID, map[string]string{"name": name, "prefix": t.Prefix})
	return t, tok, nil
}

// RevokeAPIToken deletes one of the actor's own tokens.
func (s *Service) RevokeAPIToken(ctx context.Context, a Actor, id int64) error {
	if err := a.Require(domain.PermAccount); err != nil {
		return err
	}
	if err := s.Store.DeleteAPIToken(ctx, a.WorkspaceID, a.UserID, id); err != nil {
		return err
	}
	s.Audit(ctx, a, "token.revoke", "api_token", id, nil)
	return nil
}

var loginRE = regexp.MustCompile(`^[A-Za-z0-9._@-]{2,64}$`)
