package sqldb

import (
	"context"
	"database/sql"
	"encoding/hex"
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
		`INSERT INTO sessions (id_hash, user_id, workspace_id, csrf_token, created_at, expires_at, remote_ip, user_agent)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		idHash, s.UserID, s.WorkspaceID, s.CSRFToken, s.CreatedAt, s.ExpiresAt, s.RemoteIP, s.UserAgent)
	err = db.conflict(err, "session already exists")
	err = db.missingRef(err, domain.ENOTFOUND, "workspace %d or user %d not found", s.WorkspaceID, s.UserID)
	return wrap("create session", err)
}

func (db *DB) GetSession(ctx context.Context, idHash []byte, now time.Time) (*domain.Session, error) {
	var s domain.Session
	err := db.queryRow(ctx, db.pool,
		`SELECT user_id, workspace_id, csrf_token, created_at, expires_at, remote_ip, user_agent
		 FROM sessions WHERE id_hash = ? AND expires_at > ?`, idHash, ts(now)).
		Scan(&s.UserID, &s.WorkspaceID, &s.CSRFToken, scanTime(&s.CreatedAt), scanTime(&s.ExpiresAt), &s.RemoteIP, &s.UserAgent)
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

func (db *DB) ListUserWorkspaces(ctx context.Context, userID int64) ([]domain.WorkspaceRole, error) {
	rows, err := db.query(ctx, db.pool,
		`SELECT w.id, w.name, w.slug, w.schedule_interval_seconds, w.schedule_anchor, w.created_at, m.role
		 FROM memberships m JOIN workspaces w ON w.id = m.workspace_id
		 WHERE m.user_id = ? ORDER BY lower(w.name), w.id`, userID)
	out, err := collect(rows, err, func(s scanner) (*domain.WorkspaceRole, error) {
		var r domain.WorkspaceRole
		w := &r.Workspace
		return &r, s.Scan(&w.ID, &w.Name, &w.Slug, &w.Schedule.IntervalSeconds, &w.Schedule.Anchor, scanTime(&w.CreatedAt), &r.Role)
	})
	return out, wrap("list user workspaces", err)
}

func (db *DB) ListMembers(ctx context.Context, workspaceID int64) ([]domain.Member, error) {
	rows, err := db.query(ctx, db.pool,
		`SELECT u.id, u.login, m.role, u.created_at
		 FROM memberships m JOIN users u ON u.id = m.user_id
		 WHERE m.workspace_id = ? ORDER BY lower(u.login), u.id`, workspaceID)
	out, err := collect(rows, err, func(s scanner) (*domain.Member, error) {
		var m domain.Member
		return &m, s.Scan(&m.UserID, &m.Login, &m.Role, scanTime(&m.CreatedAt))
	})
	return out, wrap("list members", err)
}

func (db *DB) CountAdmins(ctx context.Context, workspaceID int64) (int, error) {
	var n int
	err := db.queryRow(ctx, db.pool,
		`SELECT count(*) FROM memberships WHERE workspace_id = ? AND role = ?`, workspaceID, domain.RoleAdmin).Scan(&n)
	return n, wrap("count admins", err)
}

// DeleteMembership also ends the user's sessions and tokens in that
// workspace: access ends when the membership does, not at their expiry.
func (db *DB) DeleteMembership(ctx context.Context, workspaceID, userID int64) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.execOne(ctx, tx, domain.Errorf(domain.ENOTFOUND, "user %d is not a member of this workspace", userID),
			`DELETE FROM memberships WHERE workspace_id = ? AND user_id = ?`, workspaceID, userID); err != nil {
			return err
		}
		if _, err := db.exec(ctx, tx, `DELETE FROM sessions WHERE workspace_id = ? AND user_id = ?`, workspaceID, userID); err != nil {
			return err
		}
		_, err := db.exec(ctx, tx, `DELETE FROM api_tokens WHERE workspace_id = ? AND user_id = ?`, workspaceID, userID)
		return err
	})
	return wrap("delete membership", err)
}

func (db *DB) SetPasswordHash(ctx context.Context, userID int64, hash string) error {
	err := db.execOne(ctx, db.pool, domain.Errorf(domain.ENOTFOUND, "user %d not found", userID),
		`UPDATE users SET password_hash = ? WHERE id = ?`, hash, userID)
	return wrap("set password", err)
}

func (db *DB) ListUserSessions(ctx context.Context, userID int64, now time.Time) ([]domain.SessionInfo, error) {
	rows, err := db.query(ctx, db.pool,
		`SELECT id_hash, workspace_id, created_at, expires_at, remote_ip, user_agent
		 FROM sessions WHERE user_id = ? AND expires_at > ? ORDER BY created_at DESC`, userID, ts(now))
	out, err := collect(rows, err, func(s scanner) (*domain.SessionInfo, error) {
		var si domain.SessionInfo
		var h []byte
		err := s.Scan(&h, &si.WorkspaceID, scanTime(&si.CreatedAt), scanTime(&si.ExpiresAt), &si.RemoteIP, &si.UserAgent)
		si.Key = hex.EncodeToString(h)
		return &si, err
	})
	return out, wrap("list sessions", err)
}

func (db *DB) DeleteUserSession(ctx context.Context, userID int64, idHash []byte) error {
	err := db.execOne(ctx, db.pool, domain.Errorf(domain.ENOTFOUND, "session not found"),
		`DELETE FROM sessions WHERE user_id = ? AND id_hash = ?`, userID, idHash)
	return wrap("delete session", err)
}

func (db *DB) DeleteOtherSessions(ctx context.Context, userID int64, keep []byte) (int64, error) {
	res, err := db.exec(ctx, db.pool, `DELETE FROM sessions WHERE user_id = ? AND id_hash <> ?`, userID, blob(keep))
	if err != nil {
		return 0, wrap("delete other sessions", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("delete other sessions", err)
}

func (db *DB) SetSessionWorkspace(ctx context.Context, idHash []byte, workspaceID int64) error {
	err := db.execOne(ctx, db.pool, domain.Errorf(domain.ENOTFOUND, "session not found"),
		`UPDATE sessions SET workspace_id = ? WHERE id_hash = ?`, workspaceID, idHash)
	return wrap("set session workspace", err)
}

func (db *DB) ListAPITokens(ctx context.Context, workspaceID, userID int64) ([]domain.APIToken, error) {
	rows, err := db.query(ctx, db.pool,
		`SELECT id, workspace_id, user_id, name, prefix, created_at, last_used_at
		 FROM api_tokens WHERE workspace_id = ? AND user_id = ? ORDER BY created_at DESC, id DESC`, workspaceID, userID)
	out, err := collect(rows, err, func(s scanner) (*domain.APIToken, error) {
		var t domain.APIToken
		return &t, s.Scan(&t.ID, &t.WorkspaceID, &t.UserID, &t.Name, &t.Prefix, scanTime(&t.CreatedAt), scanNullTime(&t.LastUsedAt))
	})
	return out, wrap("list api tokens", err)
}

func (db *DB) DeleteAPIToken(ctx context.Context, workspaceID, userID, id int64) error {
	err := db.execOne(ctx, db.pool, domain.Errorf(domain.ENOTFOUND, "token %d not found", id),
		`DELETE FROM api_tokens WHERE id = ? AND workspace_id = ? AND user_id = ?`, id, workspaceID, userID)
	return wrap("delete api token", err)
}

const invitationCols = `id, workspace_id, role, note, token_hash, COALESCE(created_by, 0), created_at, expires_at, used_at, used_by`

func scanInvitation(s scanner) (*domain.Invitation, error) {
	var i domain.Invitation
	err := s.Scan(&i.ID, &i.WorkspaceID, &i.Role, &i.Note, &i.TokenHash, &i.CreatedBy,
		scanTime(&i.CreatedAt), scanTime(&i.ExpiresAt), scanNullTime(&i.UsedAt), scanNullID(&i.UsedBy))
	return &i, err
}

func (db *DB) CreateInvitation(ctx context.Context, inv *domain.Invitation) error {
	inv.CreatedAt = orNow(inv.CreatedAt)
	inv.ExpiresAt = ts(inv.ExpiresAt)
	var by *int64
	if inv.CreatedBy != 0 {
		by = &inv.CreatedBy
	}
	err := db.queryRow(ctx, db.pool,
		`INSERT INTO invitations (workspace_id, role, note, token_hash, created_by, created_at, expires_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		inv.WorkspaceID, inv.Role, inv.Note, inv.TokenHash, nullID(by), inv.CreatedAt, inv.ExpiresAt).Scan(&inv.ID)
	err = db.conflict(err, "invitation already exists")
	err = db.missingRef(err, domain.ENOTFOUND, "workspace %d not found", inv.WorkspaceID)
	return wrap("create invitation", err)
}

func (db *DB) ListInvitations(ctx context.Context, workspaceID int64) ([]domain.Invitation, error) {
	rows, err := db.query(ctx, db.pool,
		`SELECT `+invitationCols+` FROM invitations WHERE workspace_id = ? ORDER BY created_at DESC, id DESC`, workspaceID)
	out, err := collect(rows, err, scanInvitation)
	return out, wrap("list invitations", err)
}

func (db *DB) GetInvitationByHash(ctx context.Context, hash []byte) (*domain.Invitation, error) {
	inv, err := scanInvitation(db.queryRow(ctx, db.pool, `SELECT `+invitationCols+` FROM invitations WHERE token_hash = ?`, hash))
	if err != nil {
		return nil, wrap("get invitation", notFound(err, "invitation not found"))
	}
	return inv, nil
}

func (db *DB) DeleteInvitation(ctx context.Context, workspaceID, id int64) error {
	err := db.execOne(ctx, db.pool, domain.Errorf(domain.ENOTFOUND, "invitation %d not found", id),
		`DELETE FROM invitations WHERE id = ? AND workspace_id = ?`, id, workspaceID)
	return wrap("delete invitation", err)
}

// AcceptInvitation claims the invitation with a conditional UPDATE first,
// so that two browsers racing with one link cannot both succeed.
func (db *DB) AcceptInvitation(ctx context.Context, hash []byte, u *domain.User, now time.Time) (*domain.Invitation, error) {
	var inv *domain.Invitation
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		inv, err = scanInvitation(db.queryRow(ctx, tx, `SELECT `+invitationCols+` FROM invitations WHERE token_hash = ?`, hash))
		if err != nil {
			return notFound(err, "invitation not found")
		}
		if u.ID == 0 {
			u.CreatedAt = orNow(u.CreatedAt)
			err := db.queryRow(ctx, tx,
				`INSERT INTO users (login, password_hash, created_at) VALUES (?, ?, ?) RETURNING id`,
				u.Login, u.PasswordHash, u.CreatedAt).Scan(&u.ID)
			if err != nil {
				return db.conflict(err, "user %q already exists", u.Login)
			}
		}
		if err := db.execOne(ctx, tx, domain.Errorf(domain.ECONFLICT, "this invitation was already used or has expired"),
			`UPDATE invitations SET used_at = ?, used_by = ? WHERE id = ? AND used_at IS NULL AND expires_at > ?`,
			ts(now), u.ID, inv.ID, ts(now)); err != nil {
			return err
		}
		_, err = db.exec(ctx, tx,
			`INSERT INTO memberships (workspace_id, user_id, role) VALUES (?, ?, ?)
			 ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role`,
			inv.WorkspaceID, u.ID, inv.Role)
		if err != nil {
			return err
		}
		t := ts(now)
		inv.UsedAt, inv.UsedBy = &t, &u.ID
		return nil
	})
	if err != nil {
		return nil, wrap("accept invitation", err)
	}
	return inv, nil
}
