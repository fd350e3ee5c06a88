package sqldb

import (
	"context"
	"database/sql"
	"time"

	"github.com/vigil-project/vigil/internal/alert"
	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
)

// Notifications

const notificationCols = `n.id, n.workspace_id, n.alert_id, n.rule_id, n.channel_id, COALESCE(c.name, ''), n.kind, n.mode, n.status,
	n.digest_id, n.events, n.attempts, n.last_error, n.response_code, n.created_at, n.sent_at`

const notificationFrom = ` FROM notifications n LEFT JOIN alert_channels c ON c.id = n.channel_id`

func scanNotification(s scanner) (*alert.Notification, error) {
	var n alert.Notification
	var events string
	if err := s.Scan(&n.ID, &n.WorkspaceID, scanNullID(&n.AlertID), scanNullID(&n.RuleID), &n.ChannelID, &n.ChannelName,
		&n.Kind, &n.Mode, &n.Status, scanNullID(&n.DigestID), &events, &n.Attempts, &n.LastError, &n.ResponseCode,
		scanTime(&n.CreatedAt), scanNullTime(&n.SentAt)); err != nil {
		return nil, err
	}
	return &n, fromJSON(events, &n.Events, "notification events")
}

// CreateNotification implements store.Alerts.
func (db *DB) CreateNotification(ctx context.Context, n *alert.Notification) error {
	err := db.insertNotification(ctx, db.pool, n)
	if err == nil && n.ID == 0 {
		err = domain.Errorf(domain.ENOTFOUND, "channel %d not found or disabled", n.ChannelID)
	}
	return wrap("create notification", err)
}

// GetNotification implements store.Alerts.
func (db *DB) GetNotification(ctx context.Context, workspaceID, id int64) (*alert.Notification, error) {
	n, err := scanNotification(db.queryRow(ctx, db.pool, `SELECT `+notificationCols+notificationFrom+
		` WHERE n.workspace_id = ? AND n.id = ?`, workspaceID, id))
	if err != nil {
		return nil, wrap("get notification", notFound(err, "notification %d not found", id))
	}
	ns := []alert.Notification{*n}
	if err := db.loadAttempts(ctx, ns); err != nil {
		return nil, wrap("get notification", err)
	}
	return &ns[0], nil
}

// ListNotifications implements store.Alerts.
func (db *DB) ListNotifications(ctx context.Context, workspaceID int64, f store.NotificationFilter) ([]alert.Notification, error) {
	q := `SELECT ` + notificationCols + notificationFrom + ` WHERE n.workspace_id = ?`
	args := []any{workspaceID}
	if f.AlertID != 0 {
		q += ` AND n.alert_id = ?`
		args = append(args, f.AlertID)
	}
	if f.ChannelID != 0 {
		q += ` AND n.channel_id = ?`
		args = append(args, f.ChannelID)
	}
	if f.DigestID != 0 {
		q += ` AND n.digest_id = ?`
		args = append(args, f.DigestID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 200
	}
	rows, err := db.query(ctx, db.pool, q+` ORDER BY n.created_at DESC, n.id DESC`+db.limit(limit, 0), args...)
	out, err := collect(rows, err, scanNotification)
	if err == nil {
		err = db.loadAttempts(ctx, out)
	}
	return out, wrap("list notifications", err)
}

func (db *DB) loadAttempts(ctx context.Context, ns []alert.Notification) error {
	if len(ns) == 0 {
		return nil
	}
	idx := make(map[int64]int, len(ns))
	args := make([]any, 0, len(ns))
	for i, n := range ns {
		idx[n.ID] = i
		args = append(args, n.ID)
	}
	rows, err := db.query(ctx, db.pool, `SELECT notification_id, attempted_at, ok, error, response_code, duration_ms
		FROM notification_attempts WHERE notification_id IN (`+placeholders(len(args))+`) ORDER BY attempted_at`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var a alert.Attempt
		if err := rows.Scan(&id, scanTime(&a.At), &a.OK, &a.Error, &a.ResponseCode, &a.DurationMS); err != nil {
			return err
		}
		n := &ns[idx[id]]
		n.History = append(n.History, a)
	}
	return rows.Err()
}

// RecordAttempt implements store.Alerts.
func (db *DB) RecordAttempt(ctx context.Context, workspaceID, notificationID int64, a alert.Attempt, status string) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var sent any
		if a.OK {
			sent = ts(a.At)
		}
		if err := db.execOne(ctx, tx, domain.Errorf(domain.ENOTFOUND, "notification %d not found", notificationID),
			`UPDATE notifications SET attempts = attempts + 1, status = ?, last_error = ?, response_code = ?, sent_at = COALESCE(?, sent_at)
			 WHERE workspace_id = ? AND id = ?`,
			status, a.Error, a.ResponseCode, sent, workspaceID, notificationID); err != nil {
			return err
		}
		_, err := db.exec(ctx, tx, `INSERT INTO notification_attempts (notification_id, attempted_at, ok, error, response_code, duration_ms)
			VALUES (?, ?, ?, ?, ?, ?)`, notificationID, ts(a.At), a.OK, a.Error, a.ResponseCode, a.DurationMS)
		return err
	})
	return wrap("record attempt", err)
}

// CollectDigest implements store.Alerts.
func (db *DB) CollectDigest(ctx context.Context, workspaceID int64, mode string, now time.Time) ([]alert.Notification, error) {
	var digests []alert.Notification
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		digests = digests[:0]
		rows, err := db.query(ctx, tx, `SELECT `+notificationCols+notificationFrom+
			` WHERE n.workspace_id = ? AND n.status = 'digest_wait' AND n.mode = ? ORDER BY n.channel_id, n.created_at, n.id`+lockOf(db.d.ForUpdate, "n"),
			workspaceID, mode)
		items, err := collect(rows, err, scanNotification)
		if err != nil {
			return err
		}
		for i := 0; i < len(items); {
			j := i
			d := alert.Notification{WorkspaceID: workspaceID, ChannelID: items[i].ChannelID, Kind: alert.KindDigest,
				Mode: mode, Status: alert.NotifyPending, CreatedAt: now}
			var ids []any
			for ; j < len(items) && items[j].ChannelID == items[i].ChannelID; j++ {
				d.Events = append(d.Events, items[j].Events...)
				ids = append(ids, items[j].ID)
			}
			i = j
			if err := db.insertNotification(ctx, tx, &d); err != nil {
				return err
			}
			status := alert.NotifyDigested
			if d.ID == 0 { // the channel was disabled meanwhile
				status = alert.NotifyFailed
			}
			if _, err := db.exec(ctx, tx, `UPDATE notifications SET status = ?, digest_id = ?
				WHERE workspace_id = ? AND id IN (`+placeholders(len(ids))+`)`,
				append([]any{status, nullID(idOrNil(d.ID)), workspaceID}, ids...)...); err != nil {
				return err
			}
			if d.ID != 0 {
				digests = append(digests, d)
			}
		}
		return nil
	})
	return digests, wrap("collect digest", err)
}

// lockOf narrows a FOR UPDATE to one table of a join: PostgreSQL cannot
// lock the nullable side of an outer join.
func lockOf(forUpdate, table string) string {
	if forUpdate == "" {
		return ""
	}
	return forUpdate + " OF " + table
}

func idOrNil(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// ResolveOrphanAlerts implements store.Alerts.
func (db *DB) ResolveOrphanAlerts(ctx context.Context, workspaceID int64, events []string, now time.Time) (int64, error) {
	if len(events) == 0 {
		return 0, nil
	}
	args := []any{ts(now), ts(now), workspaceID}
	for _, e := range events {
		args = append(args, e)
	}
	res, err := db.exec(ctx, db.pool, `UPDATE alerts SET status = 'resolved', suppressed = TRUE, resolved_at = ?, updated_at = ?
		WHERE workspace_id = ? AND status = 'open' AND host_id IS NULL AND event IN (`+placeholders(len(events))+`)`, args...)
	if err != nil {
		return 0, wrap("resolve orphan alerts", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("resolve orphan alerts", err)
}

// StalledNotifications implements store.Alerts.
func (db *DB) StalledNotifications(ctx context.Context, workspaceID int64, createdBefore time.Time) ([]int64, error) {
	rows, err := db.query(ctx, db.pool, `SELECT id FROM notifications WHERE workspace_id = ? AND status = 'pending' AND created_at < ?
		ORDER BY id LIMIT 1000`, workspaceID, ts(createdBefore))
	out, err := collect(rows, err, func(s scanner) (*int64, error) {
		var id int64
		return &id, s.Scan(&id)
	})
	return out, wrap("stalled notifications", err)
}
