package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
)

const hostCols = `id, workspace_id, agent_id, credential_id, name, address, port, transport, demo, host_key,
	created_at, updated_at, last_scan_at, last_success_at, last_error, last_error_kind,
	os_id, os_version_id, os_name, kernel, package_count, os_family, os_id_like, options`

func scanHost(s scanner) (*domain.Host, error) {
	var h domain.Host
	var opts string
	err := s.Scan(&h.ID, &h.WorkspaceID, scanNullID(&h.AgentID), scanNullID(&h.CredentialID),
		&h.Name, &h.Address, &h.Port, &h.Transport, &h.Demo, &h.HostKey,
		scanTime(&h.CreatedAt), scanTime(&h.UpdatedAt), scanNullTime(&h.LastScanAt), scanNullTime(&h.LastSuccessAt),
		&h.LastError, &h.LastErrorKind, &h.OSID, &h.OSVersionID, &h.OSName, &h.Kernel, &h.PackageCount, &h.OSFamily, &h.OSIDLike, &opts)
	if err == nil && opts != "" && opts != "{}" {
		if jerr := json.Unmarshal([]byte(opts), &h.Options); jerr != nil {
			err = fmt.Errorf("host %d options: %w", h.ID, jerr)
		}
	}
	return &h, err
}

func hostOptions(h *domain.Host) (string, error) {
	b, err := json.Marshal(h.Options)
	return string(b), err
}

// checkHostRefs makes sure the agent and credential a host names are in the
// host's workspace: the foreign keys alone would accept another tenant's.
func (db *DB) checkHostRefs(ctx context.Context, q querier, h *domain.Host) error {
	refs := []struct {
		id    *int64
		table string
		field string
	}{
		{h.AgentID, "agents", "agent_id"},
		{h.CredentialID, "credentials", "credential_id"},
	}
	for _, r := range refs {
		if r.id == nil {
			continue
		}
		var one int
		err := db.queryRow(ctx, q,
			`SELECT 1 FROM `+r.table+` WHERE id = ? AND workspace_id = ?`, *r.id, h.WorkspaceID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return domain.Errorf(domain.EINVALID, "%s: %d not found in this workspace", r.field, *r.id)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// CreateHost stores the host's own fields; scan state starts empty. h is
// refreshed from the stored row.
func (db *DB) CreateHost(ctx context.Context, h *domain.Host) error {
	created := orNow(h.CreatedAt)
	var stored *domain.Host
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.checkHostRefs(ctx, tx, h); err != nil {
			return err
		}
		opts, err := hostOptions(h)
		if err != nil {
			return err
		}
		stored, err = scanHost(db.queryRow(ctx, tx,
			`INSERT INTO hosts (workspace_id, agent_id, credential_id, name, address, port, transport,
				demo, host_key, created_at, updated_at, options)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+hostCols,
			h.WorkspaceID, nullID(h.AgentID), nullID(h.CredentialID), h.Name, h.Address, h.Port, h.Transport,
			h.Demo, h.HostKey, created, created, opts))
		return err
	})
	if err != nil {
		err = db.conflict(err, "host %q already exists", h.Name)
		err = db.missingRef(err, domain.ENOTFOUND, "workspace %d not found", h.WorkspaceID)
		return wrap("create host", err)
	}
	*h = *stored
	return nil
}

// UpdateHost leaves Demo as created: it marks where a host came from.
func (db *DB) UpdateHost(ctx context.Context, h *domain.Host) error {
	var stored *domain.Host
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.checkHostRefs(ctx, tx, h); err != nil {
			return err
		}
		opts, err := hostOptions(h)
		if err != nil {
			return err
		}
		stored, err = scanHost(db.queryRow(ctx, tx,
			`UPDATE hosts SET agent_id = ?, credential_id = ?, name = ?, address = ?, port = ?, transport = ?,
				host_key = ?, updated_at = ?, options = ?
			 WHERE id = ? AND workspace_id = ? RETURNING `+hostCols,
			nullID(h.AgentID), nullID(h.CredentialID), h.Name, h.Address, h.Port, h.Transport,
			h.HostKey, ts(time.Now()), opts, h.ID, h.WorkspaceID))
		return notFound(err, "host %d not found", h.ID)
	})
	if err != nil {
		err = db.conflict(err, "host %q already exists", h.Name)
		err = db.missingRef(err, domain.EINVALID, "agent_id, credential_id: no longer exists")
		return wrap("update host", err)
	}
	*h = *stored
	return nil
}

// DeleteHost removes the host with its snapshots and packages (ON DELETE
// CASCADE).
func (db *DB) DeleteHost(ctx context.Context, workspaceID, id int64) error {
	err := db.execOne(ctx, db.pool, domain.Errorf(domain.ENOTFOUND, "host %d not found", id),
		`DELETE FROM hosts WHERE id = ? AND workspace_id = ?`, id, workspaceID)
	return wrap("delete host", err)
}

func (db *DB) GetHost(ctx context.Context, workspaceID, id int64) (*domain.Host, error) {
	h, err := scanHost(db.queryRow(ctx, db.pool,
		`SELECT `+hostCols+` FROM hosts WHERE id = ? AND workspace_id = ?`, id, workspaceID))
	if err != nil {
		return nil, wrap("get host", notFound(err, "host %d not found", id))
	}
	return h, nil
}

// hostExists reports ENOTFOUND for a host that is not in the workspace, so
// that listings under a host tell a missing host from an empty list.
func (db *DB) hostExists(ctx context.Context, q querier, workspaceID, id int64) error {
	var one int
	err := db.queryRow(ctx, q, `SELECT 1 FROM hosts WHERE id = ? AND workspace_id = ?`, id, workspaceID).Scan(&one)
	return notFound(err, "host %d not found", id)
}

// ListHosts sorts by name ignoring case, as people read a list of names.
func (db *DB) ListHosts(ctx context.Context, workspaceID int64, f store.HostFilter) ([]domain.Host, error) {
	q := `SELECT ` + hostCols + ` FROM hosts WHERE workspace_id = ?`
	args := []any{workspaceID}
	if f.Query != "" {
		q += ` AND (` + db.contains("name") + ` OR ` + db.contains("address") + `)`
		p := likePattern(f.Query)
		args = append(args, p, p)
	}
	q += ` ORDER BY lower(name), name, id`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	rows, err := db.query(ctx, db.pool, q, args...)
	hosts, err := collect(rows, err, scanHost)
	return hosts, wrap("list hosts", err)
}

func (db *DB) ListAgentHosts(ctx context.Context, workspaceID, agentID int64) ([]domain.Host, error) {
	rows, err := db.query(ctx, db.pool,
		`SELECT `+hostCols+` FROM hosts WHERE workspace_id = ? AND agent_id = ? ORDER BY lower(name), name, id`,
		workspaceID, agentID)
	hosts, err := collect(rows, err, scanHost)
	return hosts, wrap("list agent hosts", err)
}

func (db *DB) ClaimUnassignedHosts(ctx context.Context, workspaceID, agentID int64) (int64, error) {
	var n int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := db.queryRow(ctx, tx, `SELECT 1 FROM agents WHERE id = ? AND workspace_id = ?`,
			agentID, workspaceID).Scan(&one)
		if err != nil {
			return notFound(err, "agent %d not found", agentID)
		}
		res, err := db.exec(ctx, tx,
			`UPDATE hosts SET agent_id = ?, updated_at = ? WHERE workspace_id = ? AND agent_id IS NULL`,
			agentID, ts(time.Now()), workspaceID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, wrap("claim hosts", err)
}
