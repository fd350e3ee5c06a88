package sqldb

import (
	"context"
	"database/sql"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
)

const credentialCols = `id, workspace_id, name, username, is_default,
	sealed_password, sealed_private_key, sealed_passphrase, created_at, updated_at`

func scanCredential(s scanner) (*domain.Credential, error) {
	var c domain.Credential
	err := s.Scan(&c.ID, &c.WorkspaceID, &c.Name, &c.Username, &c.IsDefault,
		&c.SealedPassword, &c.SealedPrivateKey, &c.SealedPassphrase,
		scanTime(&c.CreatedAt), scanTime(&c.UpdatedAt))
	c.HasPassword = len(c.SealedPassword) > 0
	c.HasPrivateKey = len(c.SealedPrivateKey) > 0
	return &c, err
}

// clearDefault makes room for a new default: a workspace has at most one,
// and choosing another is how the user moves it. The partial unique index
// still catches two concurrent choices.
func (db *DB) clearDefault(ctx context.Context, tx *sql.Tx, workspaceID, keepID int64) error {
	_, err := db.exec(ctx, tx,
		`UPDATE credentials SET is_default = FALSE WHERE workspace_id = ? AND is_default AND id <> ?`,
		workspaceID, keepID)
	return err
}

// CreateCredential stores c; when c.IsDefault, the workspace's previous
// default stops being one.
func (db *DB) CreateCredential(ctx context.Context, c *domain.Credential) error {
	c.CreatedAt = orNow(c.CreatedAt)
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	c.UpdatedAt = ts(c.UpdatedAt)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if c.IsDefault {
			if err := db.clearDefault(ctx, tx, c.WorkspaceID, 0); err != nil {
				return err
			}
		}
		return db.queryRow(ctx, tx,
			`INSERT INTO credentials (workspace_id, name, username, is_default,
				sealed_password, sealed_private_key, sealed_passphrase, created_at, updated_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			c.WorkspaceID, c.Name, c.Username, c.IsDefault,
			blob(c.SealedPassword), blob(c.SealedPrivateKey), blob(c.SealedPassphrase),
			c.CreatedAt, c.UpdatedAt).Scan(&c.ID)
	})
	err = db.conflict(err, "another credential became the default at the same time")
	err = db.missingRef(err, domain.ENOTFOUND, "workspace %d not found", c.WorkspaceID)
	c.HasPassword = len(c.SealedPassword) > 0
	c.HasPrivateKey = len(c.SealedPrivateKey) > 0
	return wrap("create credential", err)
}

// UpdateCredential saves name, username and the default flag, and each
// sealed field that is non-nil (an empty, non-nil slice clears it). c is
// refreshed from the stored row.
func (db *DB) UpdateCredential(ctx context.Context, c *domain.Credential) error {
	var stored *domain.Credential
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if c.IsDefault {
			// Rolled back with the rest when c is not in the workspace.
			if err := db.clearDefault(ctx, tx, c.WorkspaceID, c.ID); err != nil {
				return err
			}
		}
		var err error
		stored, err = scanCredential(db.queryRow(ctx, tx,
			`UPDATE credentials SET name = ?, username = ?, is_default = ?,
				sealed_password = COALESCE(?, sealed_password),
				sealed_private_key = COALESCE(?, sealed_private_key),
				sealed_passphrase = COALESCE(?, sealed_passphrase),
				updated_at = ?
			 WHERE id = ? AND workspace_id = ?
			 RETURNING `+credentialCols,
			c.Name, c.Username, c.IsDefault,
			nullBlob(c.SealedPassword), nullBlob(c.SealedPrivateKey), nullBlob(c.SealedPassphrase),
			ts(time.Now()), c.ID, c.WorkspaceID))
		return notFound(err, "credential %d not found", c.ID)
	})
	if err != nil {
		err = db.conflict(err, "another credential became the default at the same time")
		return wrap("update credential", err)
	}
	*c = *stored
	return nil
}

func (db *DB) GetCredential(ctx context.Context, workspaceID, id int64) (*domain.Credential, error) {
	c, err := scanCredential(db.queryRow(ctx, db.pool,
		`SELECT `+credentialCols+` FROM credentials WHERE id = ? AND workspace_id = ?`, id, workspaceID))
	if err != nil {
		return nil, wrap("get credential", notFound(err, "credential %d not found", id))
	}
	return c, nil
}

func (db *DB) GetDefaultCredential(ctx context.Context, workspaceID int64) (*domain.Credential, error) {
	c, err := scanCredential(db.queryRow(ctx, db.pool,
		`SELECT `+credentialCols+` FROM credentials WHERE workspace_id = ? AND is_default`, workspaceID))
	if err != nil {
		return nil, wrap("get default credential", notFound(err, "no default credential"))
	}
	return c, nil
}

func (db *DB) ListCredentials(ctx context.Context, workspaceID int64) ([]domain.Credential, error) {
	rows, err := db.query(ctx, db.pool,
		`SELECT `+credentialCols+` FROM credentials WHERE workspace_id = ? ORDER BY lower(name), name, id`, workspaceID)
	cs, err := collect(rows, err, scanCredential)
	return cs, wrap("list credentials", err)
}

// DeleteCredential leaves the hosts that used it without a credential
// (ON DELETE SET NULL).
func (db *DB) DeleteCredential(ctx context.Context, workspaceID, id int64) error {
	err := db.execOne(ctx, db.pool, domain.Errorf(domain.ENOTFOUND, "credential %d not found", id),
		`DELETE FROM credentials WHERE id = ? AND workspace_id = ?`, id, workspaceID)
	return wrap("delete credential", err)
}
