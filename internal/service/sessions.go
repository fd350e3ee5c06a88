package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/secrets"
)

// SessionLifetime is how long a browser login lasts.
const SessionLifetime = 12 * time.Hour

// StartSession creates a browser session for an actor and returns the
// cookie value (shown to the browser only) and the session. The request's
// origin (WithOrigin) is kept so that the user can recognise the session.
func (s *Service) StartSession(ctx context.Context, a *Actor) (string, *domain.Session, error) {
	id, _, err := secrets.NewToken(secrets.PrefixSession)
	if err != nil {
		return "", nil, err
	}
	csrf, _, err := secrets.NewToken("")
	if err != nil {
		return "", nil, err
	}
	now := s.Now()
	o := OriginFrom(ctx)
	sess := &domain.Session{ID: id, UserID: a.UserID, WorkspaceID: a.WorkspaceID, CSRFToken: csrf,
		CreatedAt: now, ExpiresAt: now.Add(SessionLifetime), RemoteIP: o.RemoteIP, UserAgent: truncate(o.UserAgent, maxAuditUserAgent)}
	if err := s.Store.CreateSession(ctx, sessionHash(id), sess); err != nil {
		return "", nil, err
	}
	s.Audit(ctx, *a, "session.login", "user", a.UserID, nil)
	return id, sess, nil
}

// SessionActor resolves a session cookie to its actor and session.
func (s *Service) SessionActor(ctx context.Context, cookie string) (*Actor, *domain.Session, error) {
	if cookie == "" {
		return nil, nil, domain.Errorf(domain.EUNAUTHORIZED, "not logged in")
	}
	sess, err := s.Store.GetSession(ctx, sessionHash(cookie), s.Now())
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return nil, nil, domain.Errorf(domain.EUNAUTHORIZED, "session expired")
	} else if err != nil {
		return nil, nil, err
	}
	a, err := s.ActorFor(ctx, sess.UserID, sess.WorkspaceID)
	if err != nil {
		return nil, nil, err
	}
	return a, sess, nil
}

// EndSession logs a browser out.
func (s *Service) EndSession(ctx context.Context, cookie string) error {
	return s.Store.DeleteSession(ctx, sessionHash(cookie))
}

func sessionHash(id string) []byte {
	sum := sha256.Sum256([]byte("session:" + id))
	return sum[:]
}

// SessionKey is the key under which a session is listed (ListSessions),
// for marking the caller's own.
func SessionKey(cookie string) string { return hex.EncodeToString(sessionHash(cookie)) }

// ListSessions returns the actor's unexpired sessions in every workspace.
func (s *Service) ListSessions(ctx context.Context, a Actor) ([]domain.SessionInfo, error) {
	if err := a.Require(domain.PermAccount); err != nil {
		return nil, err
	}
	return s.Store.ListUserSessions(ctx, a.UserID, s.Now())
}

// RevokeSession ends one of the actor's own sessions, named by its key.
func (s *Service) RevokeSession(ctx context.Context, a Actor, key string) error {
	if err := a.Require(domain.PermAccount); err != nil {
		return err
	}
	h, err := hex.DecodeString(key)
	if err != nil || len(h) != sha256.Size {
		return domain.Errorf(domain.ENOTFOUND, "session not found")
	}
	if err := s.Store.DeleteUserSession(ctx, a.UserID, h); err != nil {
		return err
	}
	s.Audit(ctx, a, "session.revoke", "user", a.UserID, map[string]string{"session": key[:12]})
	return nil
}

// SwitchWorkspace moves the caller's session to another workspace they
// belong to and returns the actor there. Not being a member is "not found":
// it must not tell which workspaces exist.
func (s *Service) SwitchWorkspace(ctx context.Context, cookie string, a Actor, workspaceID int64) (*Actor, error) {
	next, err := s.ActorIn(ctx, a.UserID, workspaceID)
	if err != nil {
		return nil, err
	}
	if err := s.Store.SetSessionWorkspace(ctx, sessionHash(cookie), workspaceID); err != nil {
		return nil, err
	}
	return next, nil
}

// ActorIn returns the user's actor in a workspace, or ENOTFOUND when the
// user is not a member of it.
func (s *Service) ActorIn(ctx context.Context, userID, workspaceID int64) (*Actor, error) {
	u, err := s.Store.GetUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	m, err := s.Store.GetMembership(ctx, workspaceID, userID)
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return nil, domain.Errorf(domain.ENOTFOUND, "workspace %d not found", workspaceID)
	} else if err != nil {
		return nil, err
	}
	return &Actor{UserID: u.ID, Login: u.Login, WorkspaceID: workspaceID, Role: m.Role}, nil
}
