package sqldb

import (
	"context"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
)

// Workspaces, users, memberships and sessions.

const workspaceCols = `id, name, slug, schedule_interval_seconds, schedule_anchor, created_at`

func scanWorkspace(s scanner) (*domain.Workspace, error) {
	var w domain.Workspace
	err := s.Scan(&w.ID, &w.Name, &w.Slug, &w.Schedule.IntervalSeconds, &w.Schedule.Anchor, scanTime(&w.CreatedAt))
	return &w, err
}

func (db *DB) CreateWorkspace(ctx context.Context, w *domain.Workspace) error {
	w.CreatedAt = orNow(w.CreatedAt)
	err := db.queryRow(ctx, db.pool,
		`INSERT INTO workspaces (name, slug, schedule_interval_seconds, schedule_anchor, created_at)
		 VALUES (?, ?, ?, ?, ?) RETURNING id`,
		w.Name, w.Slug, w.Schedule.IntervalSeconds, w.Schedule.Anchor, w.CreatedAt).Scan(&w.ID)
	err = db.conflict(err, "workspace %q already exists", w.Slug)
	return wrap("create workspace", err)
}

func (db *DB) GetWorkspace(ctx context.Context, id int64) (*domain.Workspace, error) {
	w, err := scanWorkspace(db.queryRow(ctx, db.pool,
		`SELECT `+workspaceCols+` FROM workspaces WHERE id = ?`, id))
	if err != nil {
		return nil, wrap("get workspace", notFound(err, "workspace %d not found", id))
	}
	return w, nil
}

func (db *DB) FirstWorkspace(ctx context.Context) (*domain.Workspace, error) {
	w, err := scanWorkspace(db.queryRow(ctx, db.pool,
		`SELECT `+workspaceCols+` FROM workspaces ORDER BY created_at, id LIMIT 1`))
	if err != nil {
		return nil, wrap("first workspace", notFound(err, "no workspace yet"))
	}
	return w, nil
}

func (db *DB) UpdateWorkspaceSchedule(ctx context.Context, id int64, s inventory.Schedule) error {
	err := db.execOne(ctx, db.pool, domain.Errorf(domain.ENOTFOUND, "workspace %d not found", id),
		`UPDATE workspaces SET schedule_interval_seconds = ?, schedule_anchor = ? WHERE id = ?`,
		s.IntervalSeconds, s.Anchor, id)
	return wrap("update workspace schedule", err)
}

const userCols = `id, login, password_hash, created_at`

func scanUser(s scanner) (*domain.User, error) {
	var u domain.User
	err := s.Scan(&u.ID, &u.Login, &u.PasswordHash, scanTime(&u.CreatedAt))
	return &u, err
}

func (db *DB) CreateUser(ctx context.Context, u *domain.User) error {
	u.CreatedAt = orNow(u.CreatedAt)
	err := db.queryRow(ctx, db.pool,
		`INSERT INTO users (login, password_hash, created_at) VALUES (?, ?, ?) RETURNING id`,
		u.Login, u.PasswordHash, u.CreatedAt).Scan(&u.ID)
	err = db.conflict(err, "user %q already exists", u.Login)
	return wrap("create user", err)
}

func (db *DB) GetUser(ctx context.Context, id int64) (*domain.User, error) {
	u, err := scanUser(db.queryRow(ctx, db.pool, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	if err != nil {
		return nil, wrap("get user", notFound(err, "user %d not found", id))
	}
	return u, nil
}

func (db *DB) GetUserByLogin(ctx context.Context, login string) (*domain.User, error) {
	u, err := scanUser(db.queryRow(ctx, db.pool, `SELECT `+userCols+` FROM users WHERE login = ?`, login))
	if err != nil {
		return nil, wrap("get user", notFound(err, "user %q not found", login))
	}
	return u, nil
}

func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := db.queryRow(ctx, db.pool, `SELECT count(*) FROM users`).Scan(&n)
	return n, wrap("count users", err)
}

func (db *DB) SetMembership(ctx context.Context, m domain.Membership) error {
	_, err := db.exec(ctx, db.pool,
		`INSERT INTO memberships (workspace_id, user_id, role) VALUES (?, ?, ?)
		 ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role`,
		m.WorkspaceID, m.UserID, m.Role)
	err = db.missingRef(err, domain.ENOTFOUND, "workspace %d or user %d not found", m.WorkspaceID, m.UserID)
	return wrap("set membership", err)
}

func (db *DB) GetMembership(ctx context.Context, workspaceID, userID int64) (*domain.Membership, error) {
	m := domain.Membership{WorkspaceID: workspaceID, UserID: userID}
	err := db.queryRow(ctx, db.pool,
		`SELECT role FROM memberships WHERE workspace_id = ? AND user_id = ?`,
		workspaceID, userID).Scan(&m.Role)
	if err != nil {
		return nil, wrap("get membership", notFound(err, "user %d is not a member of workspace %d", userID, workspaceID))
	}
	return &m, nil
}

func (db *DB) ListMemberships(ctx context.Context, userID int64) ([]domain.Membership, error) {
	rows, err := db.query(ctx, db.pool,
		`SELECT workspace_id, user_id, role FROM memberships WHERE user_id = ? ORDER BY workspace_id`, userID)
	ms, err := collect(rows, err, func(s scanner) (*domain.Membership, error) {
		var m domain.Membership
		return &m, s.Scan(&m.WorkspaceID, &m.UserID, &m.Role)
	})
	return ms, wrap("list memberships", err)
}

func (db *DB) CreateSession(ctx context.Context, idHash []byte, s *domain.Session) error {
	s.CreatedAt = orNow(s.CreatedAt)
	s.ExpiresAt = ts(s.ExpiresAt)
	_, err := db.exec(ctx, db.pool,
		`INSERT INTO sessions (id_hash, user_id, workspace_id, csrf_token, created_at, expires_at)
		 VALUES (?, ?, ?, ?, ?, ?)`,
		idHash, s.UserID, s.WorkspaceID, s.CSRFToken, s.CreatedAt, s.ExpiresAt)
	err = db.conflict(err, "session already exists")
	err = db.missingRef(err, domain.ENOTFOUND, "workspace %d or user %d not found", s.WorkspaceID, s.UserID)
	return wrap("create session", err)
}

func (db *DB) GetSession(ctx context.Context, idHash []byte, now time.Time) (*domain.Session, error) {
	var s domain.Session
	err := db.queryRow(ctx, db.pool,
		`SELECT user_id, workspace_id, csrf_token, created_at, expires_at
		 FROM sessions WHERE id_hash = ? AND expires_at > ?`, idHash, ts(now)).
		Scan(&s.UserID, &s.WorkspaceID, &s.CSRFToken, scanTime(&s.CreatedAt), scanTime(&s.ExpiresAt))
	if err != nil {
		return nil, wrap("get session", notFound(err, "session not found"))
	}
	return &s, nil
}

// DeleteSession succeeds when there is no such session: logging out twice,
// or after expiry, is not an error.
func (db *DB) DeleteSession(ctx context.Context, idHash []byte) error {
	_, err := db.exec(ctx, db.pool, `DELETE FROM sessions WHERE id_hash = ?`, idHash)
	return wrap("delete session", err)
}

func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := db.exec(ctx, db.pool, `DELETE FROM sessions WHERE expires_at <= ?`, ts(now))
	if err != nil {
		return 0, wrap("delete expired sessions", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("delete expired sessions", err)
}
