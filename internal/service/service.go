// Package service holds the server's use cases — bootstrap, authentication,
// hosts and credentials, agent config, report ingest — on top of the store.
// The REST API and the web app both call it, so a rule (who may do what, how a
// secret is sealed) is written once.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/notify"
	"github.com/vigil-project/vigil/internal/secrets"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/vuln/match"
)

// Service is the server's application layer.
type Service struct {
	Store  store.Store
	Sealer *secrets.Sealer
	Log    *slog.Logger
	Now    func() time.Time
	// Matcher turns inventories into findings; nil disables matching.
	Matcher *match.Matcher
	// NoBackground turns off background re-evaluation (tests that want
	// to control when it runs call ReevaluateWorkspace themselves).
	NoBackground bool
	// AlertQueue queues alert evaluations and notification deliveries;
	// nil turns alerting off (the server sets it when the job queue runs).
	AlertQueue AlertQueue
	// Notifier delivers notifications; nil uses a default notify.Sender.
	Notifier *notify.Sender
	// RenderReport renders a group's report for e-mail: a self-contained
	// HTML document and a plain-text summary. The web app sets it; nil
	// leaves scheduled reports unsent (report_schedules.go).
	RenderReport func(ctx context.Context, a Actor, groupID int64) (html []byte, text string, err error)

	reevalMu      sync.Mutex
	reevalPending map[int64]bool

	// dash holds the agent config cache and the rollup scheduler.
	dash dashState

	// exposures caches each host's listening packages by the time of the
	// scan they come from (worklist.go), so a worklist does not decode
	// every host's latest report on every view.
	exposures sync.Map // host ID → exposureEntry
}

// New returns a Service; now may be nil for the wall clock.
func New(st store.Store, sealer *secrets.Sealer, log *slog.Logger) *Service {
	return &Service{Store: st, Sealer: sealer, Log: log, Now: func() time.Time { return time.Now().UTC() },
		Matcher: match.New(st)}
}

// Actor is who is calling: a user acting in one workspace with a role.
type Actor struct {
	UserID      int64
	Login       string
	WorkspaceID int64
	Role        string
}

func (a Actor) requireWrite() error {
	if !domain.CanWrite(a.Role) {
		return domain.Errorf(domain.EFORBIDDEN, "role %q may not change this", a.Role)
	}
	return nil
}

// BootstrapResult says what Bootstrap created.
type BootstrapResult struct {
	Workspace     *domain.Workspace
	AdminCreated  bool
	AdminLogin    string
	AdminPassword string // only set when it was generated
}

// AdminLogin is the login of the user created on first start.
const AdminLogin = "admin"

// Bootstrap creates the default workspace and the admin user on first start.
// The admin password is password when given (VIGIL_ADMIN_PASSWORD), else
// generated and returned once.
func (s *Service) Bootstrap(ctx context.Context, password string) (*BootstrapResult, error) {
	res := &BootstrapResult{AdminLogin: AdminLogin}
	ws, err := s.Store.FirstWorkspace(ctx)
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		ws = &domain.Workspace{Name: "Default", Slug: "default",
			Schedule: inventory.Schedule{IntervalSeconds: 3600, Anchor: "00:00"}}
		if err := s.Store.CreateWorkspace(ctx, ws); err != nil {
			return nil, fmt.Errorf("bootstrap: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	res.Workspace = ws
	n, err := s.Store.CountUsers(ctx)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	if n > 0 {
		return res, nil
	}
	if password == "" {
		if password, err = secrets.RandomPassword(); err != nil {
			return nil, err
		}
		res.AdminPassword = password
	}
	hash, err := secrets.HashPassword(password)
	if err != nil {
		return nil, err
	}
	u := &domain.User{Login: AdminLogin, PasswordHash: hash}
	if err := s.Store.CreateUser(ctx, u); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	if err := s.Store.SetMembership(ctx, domain.Membership{WorkspaceID: ws.ID, UserID: u.ID, Role: domain.RoleAdmin}); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	res.AdminCreated = true
	return res, nil
}

// CreateAgentKey registers an agent and returns its key, shown only now.
func (s *Service) CreateAgentKey(ctx context.Context, workspaceID int64, name string) (*domain.Agent, string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, "", domain.Errorf(domain.EINVALID, "name: required")
	}
	key, hash, err := secrets.NewToken(secrets.PrefixAgentKey)
	if err != nil {
		return nil, "", err
	}
	a := &domain.Agent{WorkspaceID: workspaceID, Name: name, KeyPrefix: secrets.DisplayPrefix(key), KeyHash: hash}
	if err := s.Store.CreateAgent(ctx, a); err != nil {
		return nil, "", err
	}
	return a, key, nil
}

// CreateAPIToken issues a user API token, shown only now.
func (s *Service) CreateAPIToken(ctx context.Context, workspaceID, userID int64, name string) (string, error) {
	if _, err := s.Store.GetMembership(ctx, workspaceID, userID); err != nil {
		return "", err
	}
	tok, hash, err := secrets.NewToken(secrets.PrefixAPIToken)
	if err != nil {
		return "", err
	}
	t := &domain.APIToken{WorkspaceID: workspaceID, UserID: userID, Name: name, Prefix: secrets.DisplayPrefix(tok), Hash: hash}
	if err := s.Store.CreateAPIToken(ctx, t); err != nil {
		return "", err
	}
	return tok, nil
}

// errBadCredentials is deliberately vague: it must not tell which part was wrong.
var errBadCredentials = domain.Errorf(domain.EUNAUTHORIZED, "invalid login or password")

// Login checks a password and returns the user's actor in their first
// workspace.
func (s *Service) Login(ctx context.Context, login, password string) (*Actor, error) {
	u, err := s.Store.GetUserByLogin(ctx, login)
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		// Spend the same time as a real check so that timing does not
		// reveal which logins exist.
		secrets.CheckPassword(dummyHash, password)
		return nil, errBadCredentials
	} else if err != nil {
		return nil, err
	}
	if !secrets.CheckPassword(u.PasswordHash, password) {
		return nil, errBadCredentials
	}
	ms, err := s.Store.ListMemberships(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, domain.Errorf(domain.EFORBIDDEN, "user %s belongs to no workspace", u.Login)
	}
	return &Actor{UserID: u.ID, Login: u.Login, WorkspaceID: ms[0].WorkspaceID, Role: ms[0].Role}, nil
}

var dummyHash, _ = secrets.HashPassword("timing equaliser")

// ActorFor loads the actor of a user in a workspace (session or token).
func (s *Service) ActorFor(ctx context.Context, userID, workspaceID int64) (*Actor, error) {
	u, err := s.Store.GetUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	m, err := s.Store.GetMembership(ctx, workspaceID, userID)
	if err != nil {
		return nil, domain.Errorf(domain.EUNAUTHORIZED, "no access to this workspace")
	}
	return &Actor{UserID: u.ID, Login: u.Login, WorkspaceID: workspaceID, Role: m.Role}, nil
}

// AuthenticateToken resolves a user API token.
func (s *Service) AuthenticateToken(ctx context.Context, token string) (*Actor, error) {
	if !strings.HasPrefix(token, secrets.PrefixAPIToken) {
		return nil, domain.Errorf(domain.EUNAUTHORIZED, "invalid API token")
	}
	t, err := s.Store.GetAPITokenByHash(ctx, secrets.HashToken(token))
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return nil, domain.Errorf(domain.EUNAUTHORIZED, "invalid API token")
	} else if err != nil {
		return nil, err
	}
	if err := s.Store.TouchAPIToken(ctx, t.ID, s.Now()); err != nil {
		s.Log.Warn("touch api token", "err", err)
	}
	return s.ActorFor(ctx, t.UserID, t.WorkspaceID)
}

// AuthenticateAgent resolves an agent key; revoked keys are refused.
func (s *Service) AuthenticateAgent(ctx context.Context, key string) (*domain.Agent, error) {
	if !strings.HasPrefix(key, secrets.PrefixAgentKey) {
		return nil, domain.Errorf(domain.EUNAUTHORIZED, "invalid agent key")
	}
	a, err := s.Store.GetAgentByKeyHash(ctx, secrets.HashToken(key))
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return nil, domain.Errorf(domain.EUNAUTHORIZED, "invalid agent key")
	} else if err != nil {
		return nil, err
	}
	if a.RevokedAt != nil {
		return nil, domain.Errorf(domain.EUNAUTHORIZED, "agent key revoked")
	}
	return a, nil
}

// IsUnauthorized reports whether err is an authentication failure.
func IsUnauthorized(err error) bool {
	var e *domain.Error
	return errors.As(err, &e) && e.Code == domain.EUNAUTHORIZED
}
