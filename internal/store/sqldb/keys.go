package sqldb

import (
	"context"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
)

// API tokens and agents: the two kinds of key, stored as hashes.

const apiTokenCols = `id, workspace_id, user_id, name, prefix, token_hash, created_at, last_used_at`

func (db *DB) CreateAPIToken(ctx context.Context, t *domain.APIToken) error {
	t.CreatedAt = orNow(t.CreatedAt)
	err := db.queryRow(ctx, db.pool,
		`INSERT INTO api_tokens (workspace_id, user_id, name, prefix, token_hash, created_at, last_used_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		t.WorkspaceID, t.UserID, t.Name, t.Prefix, t.Hash, t.CreatedAt, nullTS(t.LastUsedAt)).Scan(&t.ID)
	err = db.conflict(err, "token already exists")
	err = db.missingRef(err, domain.ENOTFOUND, "workspace %d or user %d not found", t.WorkspaceID, t.UserID)
	return wrap("create api token", err)
}

func (db *DB) GetAPITokenByHash(ctx context.Context, hash []byte) (*domain.APIToken, error) {
	var t domain.APIToken
	err := db.queryRow(ctx, db.pool, `SELECT `+apiTokenCols+` FROM api_tokens WHERE token_hash = ?`, hash).
		Scan(&t.ID, &t.WorkspaceID, &t.UserID, &t.Name, &t.Prefix, &t.Hash,
			scanTime(&t.CreatedAt), scanNullTime(&t.LastUsedAt))
	if err != nil {
		return nil, wrap("get api token", notFound(err, "token not found"))
	}
	return &t, nil
}

func (db *DB) TouchAPIToken(ctx context.Context, id int64, now time.Time) error {
	err := db.execOne(ctx, db.pool, domain.Errorf(domain.ENOTFOUND, "token %d not found", id),
		`UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, ts(now), id)
	return wrap("touch api token", err)
}

// agentCols counts hosts in a subquery: it is indexed, and keeps one
// column list for lookups and listings.
const agentCols = `a.id, a.workspace_id, a.name, a.key_prefix, a.key_hash, a.version,
	a.created_at, a.last_seen_at, a.revoked_at,
	(SELECT count(*) FROM hosts h WHERE h.agent_id = a.id AND h.workspace_id = a.workspace_id)`

func scanAgent(s scanner) (*domain.Agent, error) {
	var a domain.Agent
	err := s.Scan(&a.ID, &a.WorkspaceID, &a.Name, &a.KeyPrefix, &a.KeyHash, &a.Version,
		scanTime(&a.CreatedAt), scanNullTime(&a.LastSeenAt), scanNullTime(&a.RevokedAt), &a.HostCount)
	return &a, err
}

func (db *DB) CreateAgent(ctx context.Context, a *domain.Agent) error {
	a.CreatedAt = orNow(a.CreatedAt)
	err := db.queryRow(ctx, db.pool,
		`INSERT INTO agents (workspace_id, name, key_prefix, key_hash, version, created_at, last_seen_at, revoked_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		a.WorkspaceID, a.Name, a.KeyPrefix, a.KeyHash, a.Version, a.CreatedAt,
		nullTS(a.LastSeenAt), nullTS(a.RevokedAt)).Scan(&a.ID)
	err = db.conflict(err, "agent key already exists")
	err = db.missingRef(err, domain.ENOTFOUND, "workspace %d not found", a.WorkspaceID)
	return wrap("create agent", err)
}

func (db *DB) GetAgentByKeyHash(ctx context.Context, hash []byte) (*domain.Agent, error) {
	a, err := scanAgent(db.queryRow(ctx, db.pool,
		`SELECT `+agentCols+` FROM agents a WHERE a.key_hash = ?`, hash))
	if err != nil {
		return nil, wrap("get agent", notFound(err, "agent not found"))
	}
	return a, nil
}

func (db *DB) GetAgent(ctx context.Context, workspaceID, id int64) (*domain.Agent, error) {
	a, err := scanAgent(db.queryRow(ctx, db.pool,
		`SELECT `+agentCols+` FROM agents a WHERE a.id = ? AND a.workspace_id = ?`, id, workspaceID))
	if err != nil {
		return nil, wrap("get agent", notFound(err, "agent %d not found", id))
	}
	return a, nil
}

func (db *DB) ListAgents(ctx context.Context, workspaceID int64) ([]domain.Agent, error) {
	rows, err := db.query(ctx, db.pool,
		`SELECT `+agentCols+` FROM agents a WHERE a.workspace_id = ? ORDER BY lower(a.name), a.name, a.id`, workspaceID)
	agents, err := collect(rows, err, scanAgent)
	return agents, wrap("list agents", err)
}

// TouchAgent keeps the stored version when the agent sent none.
func (db *DB) TouchAgent(ctx context.Context, workspaceID, id int64, version string, now time.Time) error {
	err := db.execOne(ctx, db.pool, domain.Errorf(domain.ENOTFOUND, "agent %d not found", id),
		`UPDATE agents SET version = COALESCE(NULLIF(?, ''), version), last_seen_at = ?
		 WHERE id = ? AND workspace_id = ?`,
		version, ts(now), id, workspaceID)
	return wrap("touch agent", err)
}
