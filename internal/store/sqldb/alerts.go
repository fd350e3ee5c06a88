package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/vigil-project/vigil/internal/alert"
	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
)

// jsonText encodes v for a TEXT column.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("encode %T: %v", v, err)) // plain structs and maps: cannot fail
	}
	return string(b)
}

func fromJSON(s string, v any, what string) error {
	if s == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("decode %s: %w", what, err)
	}
	return nil
}

// Channels

const channelCols = `id, workspace_id, name, kind, enabled, config, sealed, created_at, updated_at`

func scanChannel(s scanner) (*alert.Channel, error) {
	var c alert.Channel
	var cfg string
	if err := s.Scan(&c.ID, &c.WorkspaceID, &c.Name, &c.Kind, &c.Enabled, &cfg, &c.Sealed,
		scanTime(&c.CreatedAt), scanTime(&c.UpdatedAt)); err != nil {
		return nil, err
	}
	c.HasSecret = len(c.Sealed) > 0
	return &c, fromJSON(cfg, &c.Config, "channel config")
}

// CreateChannel implements store.Alerts.
func (db *DB) CreateChannel(ctx context.Context, c *alert.Channel) error {
	c.CreatedAt = orNow(c.CreatedAt)
	c.UpdatedAt = c.CreatedAt
	err := db.queryRow(ctx, db.pool, `INSERT INTO alert_channels (workspace_id, name, kind, enabled, config, sealed, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		c.WorkspaceID, c.Name, c.Kind, c.Enabled, jsonText(c.Config), blob(c.Sealed), c.CreatedAt, c.UpdatedAt).Scan(&c.ID)
	err = db.conflict(err, "a channel named %q exists already", c.Name)
	err = db.missingRef(err, domain.ENOTFOUND, "workspace %d not found", c.WorkspaceID)
	c.HasSecret = len(c.Sealed) > 0
	return wrap("create channel", err)
}

// UpdateChannel implements store.Alerts.
func (db *DB) UpdateChannel(ctx context.Context, c *alert.Channel) error {
	c.UpdatedAt = orNow(c.UpdatedAt)
	err := db.execOne(ctx, db.pool, domain.Errorf(domain.ENOTFOUND, "channel %d not found", c.ID),
		`UPDATE alert_channels SET name = ?, kind = ?, enabled = ?, config = ?, sealed = COALESCE(?, sealed), updated_at = ?
		 WHERE workspace_id = ? AND id = ?`,
		c.Name, c.Kind, c.Enabled, jsonText(c.Config), nullBlob(c.Sealed), c.UpdatedAt, c.WorkspaceID, c.ID)
	return wrap("update channel", db.conflict(err, "a channel named %q exists already", c.Name))
}

// GetChannel implements store.Alerts.
func (db *DB) GetChannel(ctx context.Context, workspaceID, id int64) (*alert.Channel, error) {
	c, err := scanChannel(db.queryRow(ctx, db.pool, `SELECT `+channelCols+` FROM alert_channels WHERE workspace_id = ? AND id = ?`, workspaceID, id))
	return c, wrap("get channel", notFound(err, "channel %d not found", id))
}

// ListChannels implements store.Alerts.
func (db *DB) ListChannels(ctx context.Context, workspaceID int64) ([]alert.Channel, error) {
	rows, err := db.query(ctx, db.pool, `SELECT `+channelCols+` FROM alert_channels WHERE workspace_id = ? ORDER BY name`, workspaceID)
	out, err := collect(rows, err, scanChannel)
	return out, wrap("list channels", err)
}

// DeleteChannel implements store.Alerts. Rules keep the ID in their list
// until edited; delivery skips channels that are gone.
func (db *DB) DeleteChannel(ctx context.Context, workspaceID, id int64) error {
	return wrap("delete channel", db.execOne(ctx, db.pool, domain.Errorf(domain.ENOTFOUND, "channel %d not found", id),
		`DELETE FROM alert_channels WHERE workspace_id = ? AND id = ?`, workspaceID, id))
}

// Rules

const ruleCols = `id, workspace_id, name, event, enabled, filter, channel_ids, mode, renotify_minutes, notify_resolved, created_at, updated_at`

func scanRule(s scanner) (*alert.Rule, error) {
	var r alert.Rule
	var filter, chans string
	if err := s.Scan(&r.ID, &r.WorkspaceID, &r.Name, &r.Event, &r.Enabled, &filter, &chans, &r.Mode,
		&r.RenotifyMinutes, &r.NotifyResolved, scanTime(&r.CreatedAt), scanTime(&r.UpdatedAt)); err != nil {
		return nil, err
	}
	if err := fromJSON(filter, &r.Filter, "rule filter"); err != nil {
		return nil, err
	}
	return &r, fromJSON(chans, &r.ChannelIDs, "rule channels")
}

// CreateAlertRule implements store.Alerts.
func (db *DB) CreateAlertRule(ctx context.Context, r *alert.Rule) error {
	r.CreatedAt = orNow(r.CreatedAt)
	r.UpdatedAt = r.CreatedAt
	err := db.queryRow(ctx, db.pool, `INSERT INTO alert_rules (workspace_id, name, event, enabled, filter, channel_ids, mode,
			renotify_minutes, notify_resolved, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		r.WorkspaceID, r.Name, r.Event, r.Enabled, jsonText(r.Filter), jsonText(r.ChannelIDs), r.Mode,
		r.RenotifyMinutes, r.NotifyResolved, r.CreatedAt, r.UpdatedAt).Scan(&r.ID)
	err = db.conflict(err, "a rule named %q exists already", r.Name)
	err = db.missingRef(err, domain.ENOTFOUND, "workspace %d not found", r.WorkspaceID)
	return wrap("create alert rule", err)
}

// UpdateAlertRule implements store.Alerts.
func (db *DB) UpdateAlertRule(ctx context.Context, r *alert.Rule) error {
	r.UpdatedAt = orNow(r.UpdatedAt)
	err := db.execOne(ctx, db.pool, domain.Errorf(domain.ENOTFOUND, "alert rule %d not found", r.ID),
		`UPDATE alert_rules SET name = ?, event = ?, enabled = ?, filter = ?, channel_ids = ?, mode = ?,
			renotify_minutes = ?, notify_resolved = ?, updated_at = ?
		 WHERE workspace_id = ? AND id = ?`,
		r.Name, r.Event, r.Enabled, jsonText(r.Filter), jsonText(r.ChannelIDs), r.Mode,
		r.RenotifyMinutes, r.NotifyResolved, r.UpdatedAt, r.WorkspaceID, r.ID)
	return wrap("update alert rule", db.conflict(err, "a rule named %q exists already", r.Name))
}

// GetAlertRule implements store.Alerts.
func (db *DB) GetAlertRule(ctx context.Context, workspaceID, id int64) (*alert.Rule, error) {
	r, err := scanRule(db.queryRow(ctx, db.pool, `SELECT `+ruleCols+` FROM alert_rules WHERE workspace_id = ? AND id = ?`, workspaceID, id))
	return r, wrap("get alert rule", notFound(err, "alert rule %d not found", id))
}

// ListAlertRules implements store.Alerts.
func (db *DB) ListAlertRules(ctx context.Context, workspaceID int64, events ...string) ([]alert.Rule, error) {
	q := `SELECT ` + ruleCols + ` FROM alert_rules WHERE workspace_id = ?`
	args := []any{workspaceID}
	if len(events) > 0 {
		q += ` AND enabled AND event IN (` + placeholders(len(events)) + `)`
		for _, e := range events {
			args = append(args, e)
		}
	}
	rows, err := db.query(ctx, db.pool, q+` ORDER BY name`, args...)
	out, err := collect(rows, err, scanRule)
	return out, wrap("list alert rules", err)
}

// DeleteAlertRule implements store.Alerts.
func (db *DB) DeleteAlertRule(ctx context.Context, workspaceID, id int64, now time.Time) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := db.exec(ctx, tx, `UPDATE alerts SET status = 'resolved', suppressed = TRUE, resolved_at = ?, updated_at = ?
			WHERE workspace_id = ? AND rule_id = ? AND status = 'open'`, ts(now), ts(now), workspaceID, id); err != nil {
			return err
		}
		return db.execOne(ctx, tx, domain.Errorf(domain.ENOTFOUND, "alert rule %d not found", id),
			`DELETE FROM alert_rules WHERE workspace_id = ? AND id = ?`, workspaceID, id)
	})
	return wrap("delete alert rule", err)
}

// Alerts

const alertCols = `a.id, a.workspace_id, a.rule_id, a.rule_name, a.event, a.subject, a.host_id, a.host_name, a.title,
	a.severity, a.status, a.fingerprint, a.details, a.suppressed, a.opened_at, a.updated_at, a.last_notified_at, a.resolved_at`

func scanAlert(s scanner) (*alert.Alert, error) {
	var a alert.Alert
	var ruleID *int64
	var details string
	if err := s.Scan(&a.ID, &a.WorkspaceID, scanNullID(&ruleID), &a.RuleName, &a.Event, &a.Subject, scanNullID(&a.HostID),
		&a.HostName, &a.Title, &a.Severity, &a.Status, &a.Fingerprint, &details, &a.Suppressed,
		scanTime(&a.OpenedAt), scanTime(&a.UpdatedAt), scanNullTime(&a.LastNotifiedAt), scanNullTime(&a.ResolvedAt)); err != nil {
		return nil, err
	}
	if ruleID != nil {
		a.RuleID = *ruleID
	}
	return &a, fromJSON(details, &a.Details, "alert details")
}

// OpenAlerts implements store.Alerts.
func (db *DB) OpenAlerts(ctx context.Context, workspaceID int64, ruleIDs []int64, hostID int64) ([]alert.Alert, error) {
	if len(ruleIDs) == 0 {
		return []alert.Alert{}, nil
	}
	q := `SELECT ` + alertCols + ` FROM alerts a WHERE a.workspace_id = ? AND a.status = 'open' AND a.rule_id IN (` + placeholders(len(ruleIDs)) + `)`
	args := []any{workspaceID}
	for _, id := range ruleIDs {
		args = append(args, id)
	}
	if hostID != 0 {
		q += ` AND a.host_id = ?`
		args = append(args, hostID)
	}
	rows, err := db.query(ctx, db.pool, q, args...)
	out, err := collect(rows, err, scanAlert)
	return out, wrap("open alerts", err)
}

// stmtCache prepares each statement of a transaction once: one evaluation
// may write hundreds of alerts, and SQLite would otherwise parse the same
// INSERT for each.
type stmtCache struct {
	db    *DB
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

func (c *stmtCache) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	st, err := c.tx.PrepareContext(ctx, c.db.Rebind(query))
	if err != nil {
		return nil, err
	}
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	c.stmts[query] = st
	return st, nil
}

func (c *stmtCache) close() {
	for _, st := range c.stmts {
		st.Close()
	}
}

const insertAlertSQL = `INSERT INTO alerts (workspace_id, rule_id, rule_name, event, subject, host_id, host_name,
		title, severity, status, fingerprint, details, suppressed, opened_at, updated_at, last_notified_at, resolved_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (rule_id, subject) WHERE status = 'open' DO NOTHING RETURNING id`

// The alert must still be open, and, where the change says what it was
// computed from, still in that state (fingerprint, last notification).
const updateAlertSQL = `UPDATE alerts SET host_name = ?, title = ?, severity = ?, status = ?, fingerprint = ?,
		details = ?, suppressed = ?, updated_at = ?, last_notified_at = ?, resolved_at = ?
	WHERE workspace_id = ? AND id = ? AND status = 'open'
		AND (? OR (fingerprint = ? AND last_notified_at IS NOT DISTINCT FROM ?))`

// A channel deleted or disabled since the rule was saved is skipped, not an
// error: the other channels still get theirs.
const insertNotificationSQL = `INSERT INTO notifications (workspace_id, alert_id, rule_id, channel_id, kind, mode, status,
		digest_id, events, created_at)
	SELECT ?, ?, ?, c.id, ?, ?, ?, ?, ?, ? FROM alert_channels c WHERE c.workspace_id = ? AND c.id = ? AND c.enabled
	RETURNING id`

const insertNotificationValuesSQL = `INSERT INTO notifications (workspace_id, alert_id, rule_id, channel_id, kind, mode, status,
		digest_id, events, created_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`

// ApplyAlertChanges implements store.Alerts.
func (db *DB) ApplyAlertChanges(ctx context.Context, workspaceID int64, changes []alert.Change) ([]int64, error) {
	if len(changes) == 0 {
		return nil, nil
	}
	var due []int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		due = due[:0]
		sc := &stmtCache{db: db, tx: tx}
		defer sc.close()
		// The workspace's enabled channels, read once: a channel deleted
		// or disabled since the rule was saved gets no notification.
		rows, err := db.query(ctx, tx, `SELECT id FROM alert_channels WHERE workspace_id = ? AND enabled`, workspaceID)
		ids, err := collect(rows, err, func(s scanner) (*int64, error) {
			var id int64
			return &id, s.Scan(&id)
		})
		if err != nil {
			return err
		}
		enabled := make(map[int64]bool, len(ids))
		for _, id := range ids {
			enabled[id] = true
		}
		for i := range changes {
			ch := &changes[i]
			a := &ch.Alert
			if a.WorkspaceID != workspaceID {
				return fmt.Errorf("alert for workspace %d in a change of workspace %d", a.WorkspaceID, workspaceID)
			}
			if a.ID == 0 {
				st, err := sc.stmt(ctx, insertAlertSQL)
				if err != nil {
					return err
				}
				// ON CONFLICT with the partial index: a concurrent
				// evaluation opened it first; its notifications stand.
				err = st.QueryRowContext(ctx, workspaceID, a.RuleID, a.RuleName, a.Event, a.Subject, nullID(a.HostID), a.HostName,
					a.Title, a.Severity, a.Status, a.Fingerprint, jsonText(a.Details), a.Suppressed, ts(a.OpenedAt), ts(a.UpdatedAt),
					nullTS(a.LastNotifiedAt), nullTS(a.ResolvedAt)).Scan(&a.ID)
				if err == sql.ErrNoRows {
					continue
				}
				if err != nil {
					return err
				}
			} else {
				st, err := sc.stmt(ctx, updateAlertSQL)
				if err != nil {
					return err
				}
				var seenFP string
				var seenAt *time.Time
				if ch.Seen != nil {
					seenFP, seenAt = ch.Seen.Fingerprint, ch.Seen.LastNotifiedAt
				}
				res, err := st.ExecContext(ctx, a.HostName, a.Title, a.Severity, a.Status, a.Fingerprint, jsonText(a.Details),
					a.Suppressed, ts(a.UpdatedAt), nullTS(a.LastNotifiedAt), nullTS(a.ResolvedAt), workspaceID, a.ID,
					ch.Seen == nil, seenFP, nullTS(seenAt))
				if err != nil {
					return err
				}
				// Changes are computed from the alerts as the evaluation
				// read them. One that is no longer open, or no longer in
				// that state, was changed by a concurrent evaluation (a
				// sweep and a report's evaluation, say), which sent its
				// notifications: sending ours too would tell the channel
				// twice. The next evaluation starts from the new state.
				if n, err := res.RowsAffected(); err != nil {
					return err
				} else if n == 0 {
					continue
				}
			}
			for j := range ch.Notifications {
				n := &ch.Notifications[j]
				id := a.ID
				n.AlertID = &id
				for k := range n.Events {
					n.Events[k].AlertID = a.ID
				}
				if !enabled[n.ChannelID] {
					continue
				}
				st, err := sc.stmt(ctx, insertNotificationValuesSQL)
				if err != nil {
					return err
				}
				n.CreatedAt = orNow(n.CreatedAt)
				if err := st.QueryRowContext(ctx, n.WorkspaceID, nullID(n.AlertID), nullID(n.RuleID), n.ChannelID, n.Kind, n.Mode,
					n.Status, nullID(n.DigestID), jsonText(n.Events), n.CreatedAt).Scan(&n.ID); err != nil {
					return err
				}
				if n.Status == alert.NotifyPending {
					due = append(due, n.ID)
				}
			}
		}
		return nil
	})
	return due, wrap("apply alert changes", err)
}

func (db *DB) insertNotification(ctx context.Context, q querier, n *alert.Notification) error {
	query := db.Rebind(insertNotificationSQL)
	return insertNotificationWith(ctx, func(ctx context.Context, args ...any) *sql.Row {
		return q.QueryRowContext(ctx, query, args...)
	}, n)
}

func insertNotificationWith(ctx context.Context, queryRow func(ctx context.Context, args ...any) *sql.Row, n *alert.Notification) error {
	n.CreatedAt = orNow(n.CreatedAt)
	if n.Mode == "" {
		n.Mode = alert.ModeImmediate
	}
	err := queryRow(ctx, n.WorkspaceID, nullID(n.AlertID), nullID(n.RuleID), n.Kind, n.Mode, n.Status, nullID(n.DigestID),
		jsonText(n.Events), n.CreatedAt, n.WorkspaceID, n.ChannelID).Scan(&n.ID)
	if err == sql.ErrNoRows {
		n.Status = ""
		return nil
	}
	return err
}

// alertWhere builds the WHERE clause of alert lists.
func alertWhere(workspaceID int64, f store.AlertFilter) (string, []any) {
	w := ` WHERE a.workspace_id = ?`
	args := []any{workspaceID}
	if f.Status != "" {
		w += ` AND a.status = ?`
		args = append(args, f.Status)
	}
	if f.RuleID != 0 {
		w += ` AND a.rule_id = ?`
		args = append(args, f.RuleID)
	}
	if f.HostID != 0 {
		w += ` AND a.host_id = ?`
		args = append(args, f.HostID)
	}
	if f.Event != "" {
		w += ` AND a.event = ?`
		args = append(args, f.Event)
	}
	return w, args
}

// ListAlerts implements store.Alerts.
func (db *DB) ListAlerts(ctx context.Context, workspaceID int64, f store.AlertFilter) ([]alert.Alert, int, error) {
	where, args := alertWhere(workspaceID, f)
	var total int
	var out []alert.Alert
	err := db.inTxOpts(ctx, &db.d.ReadTx, func(tx *sql.Tx) error {
		if err := db.queryRow(ctx, tx, `SELECT count(*) FROM alerts a`+where, args...).Scan(&total); err != nil {
			return err
		}
		rows, err := db.query(ctx, tx, `SELECT `+alertCols+` FROM alerts a`+where+
			` ORDER BY CASE a.status WHEN 'open' THEN 0 ELSE 1 END, a.updated_at DESC, a.id DESC`+db.limit(f.Limit, f.Offset), args...)
		out, err = collect(rows, err, scanAlert)
		return err
	})
	return out, total, wrap("list alerts", err)
}

// GetAlert implements store.Alerts.
func (db *DB) GetAlert(ctx context.Context, workspaceID, id int64) (*alert.Alert, error) {
	a, err := scanAlert(db.queryRow(ctx, db.pool, `SELECT `+alertCols+` FROM alerts a WHERE a.workspace_id = ? AND a.id = ?`, workspaceID, id))
	return a, wrap("get alert", notFound(err, "alert %d not found", id))
}

// AlertWorkspaces implements store.Alerts.
func (db *DB) AlertWorkspaces(ctx context.Context) ([]int64, error) {
	rows, err := db.query(ctx, db.pool, `SELECT DISTINCT workspace_id FROM alert_rules WHERE enabled ORDER BY workspace_id`)
	out, err := collect(rows, err, func(s scanner) (*int64, error) {
		var id int64
		return &id, s.Scan(&id)
	})
	return out, wrap("alert workspaces", err)
}

// AlertSettings implements store.Alerts.
func (db *DB) AlertSettings(ctx context.Context, workspaceID int64) (alert.Settings, error) {
	var raw string
	err := db.queryRow(ctx, db.pool, `SELECT settings FROM alert_settings WHERE workspace_id = ?`, workspaceID).Scan(&raw)
	if err == sql.ErrNoRows {
		return alert.DefaultSettings(), nil
	}
	if err != nil {
		return alert.Settings{}, wrap("alert settings", err)
	}
	s := alert.DefaultSettings()
	return s, wrap("alert settings", fromJSON(raw, &s, "alert settings"))
}

// SaveAlertSettings implements store.Alerts.
func (db *DB) SaveAlertSettings(ctx context.Context, workspaceID int64, s alert.Settings) error {
	_, err := db.exec(ctx, db.pool, `INSERT INTO alert_settings (workspace_id, settings) VALUES (?, ?)
		ON CONFLICT (workspace_id) DO UPDATE SET settings = excluded.settings`, workspaceID, jsonText(s))
	err = db.missingRef(err, domain.ENOTFOUND, "workspace %d not found", workspaceID)
	return wrap("save alert settings", err)
}
