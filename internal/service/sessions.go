package service

import (
	"context"
	"crypto/sha256"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/secrets"
)

// SessionLifetime is how long a browser login lasts.
const SessionLifetime = 12 * time.Hour

// StartSession creates a browser session for an actor and returns the
// cookie value (shown to the browser only) and the session.
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
	sess := &domain.Session{ID: id, UserID: a.UserID, WorkspaceID: a.WorkspaceID, CSRFToken: csrf,
		CreatedAt: now, ExpiresAt: now.Add(SessionLifetime)}
	if err := s.Store.CreateSession(ctx, sessionHash(id), sess); err != nil {
		return "", nil, err
	}
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
