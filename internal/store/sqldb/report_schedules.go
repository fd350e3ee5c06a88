package sqldb

import (
	"context"
	"database/sql"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
)

const reportCols = `r.id, r.workspace_id, r.group_id, g.name, r.channel_id, c.name, r.frequency, r.weekday, r.hour,
	r.created_by, r.created_at, r.last_run_at, r.last_error`

const reportFrom = ` FROM report_schedules r JOIN host_groups g ON g.id = r.group_id JOIN alert_channels c ON c.id = r.channel_id`

func scanReportSchedule(s scanner) (*domain.ReportSchedule, error) {
	r := &domain.ReportSchedule{}
	err := s.Scan(&r.ID, &r.WorkspaceID, &r.GroupID, &r.GroupName, &r.ChannelID, &r.ChannelName, &r.Frequency, &r.Weekday, &r.Hour,
		&r.CreatedBy, scanTime(&r.CreatedAt), scanNullTime(&r.LastRunAt), &r.LastError)
	return r, err
}

// CreateReportSchedule implements store.ReportSchedules.
func (db *DB) CreateReportSchedule(ctx context.Context, r *domain.ReportSchedule) error {
	now := orNow(r.CreatedAt)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := db.GetGroupTx(ctx, tx, r.WorkspaceID, r.GroupID); err != nil {
			if domain.ErrorCode(err) == domain.ENOTFOUND {
				return domain.Errorf(domain.EINVALID, "group_id: group %d is not in this workspace", r.GroupID)
			}
			return err
		}
		var n int
		if err := db.queryRow(ctx, tx, `SELECT count(*) FROM alert_channels WHERE id = ? AND workspace_id = ?`, r.ChannelID, r.WorkspaceID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return domain.Errorf(domain.EINVALID, "channel_id: channel %d is not in this workspace", r.ChannelID)
		}
		return db.queryRow(ctx, tx,
			`INSERT INTO report_schedules (workspace_id, group_id, channel_id, frequency, weekday, hour, created_by, created_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			r.WorkspaceID, r.GroupID, r.ChannelID, r.Frequency, r.Weekday, r.Hour, r.CreatedBy, now).Scan(&r.ID)
	})
	if err != nil {
		return wrap("create report schedule", err)
	}
	r.CreatedAt = now
	return nil
}

// ListReportSchedules implements store.ReportSchedules.
func (db *DB) ListReportSchedules(ctx context.Context, workspaceID int64) ([]domain.ReportSchedule, error) {
	rows, err := db.query(ctx, db.pool, `SELECT `+reportCols+reportFrom+` WHERE r.workspace_id = ? ORDER BY lower(g.name), r.id`, workspaceID)
	out, err := collect(rows, err, scanReportSchedule)
	return out, wrap("list report schedules", err)
}

// AllReportSchedules implements store.ReportSchedules.
func (db *DB) AllReportSchedules(ctx context.Context) ([]domain.ReportSchedule, error) {
	rows, err := db.query(ctx, db.pool, `SELECT `+reportCols+reportFrom+` ORDER BY r.workspace_id, r.id`)
	out, err := collect(rows, err, scanReportSchedule)
	return out, wrap("all report schedules", err)
}

// DeleteReportSchedule implements store.ReportSchedules.
func (db *DB) DeleteReportSchedule(ctx context.Context, workspaceID, id int64) error {
	return wrap("delete report schedule", db.execOne(ctx, db.pool, domain.Errorf(domain.ENOTFOUND, "report schedule %d not found", id),
		`DELETE FROM report_schedules WHERE id = ? AND workspace_id = ?`, id, workspaceID))
}

// ClaimReportRun implements store.ReportSchedules: one conditional UPDATE,
// so two replicas running the job at once send a slot once.
func (db *DB) ClaimReportRun(ctx context.Context, workspaceID, id int64, slot time.Time) (bool, error) {
	slot = ts(slot)
	res, err := db.exec(ctx, db.pool,
		`UPDATE report_schedules SET last_run_at = ? WHERE id = ? AND workspace_id = ? AND (last_run_at IS NULL OR last_run_at < ?)`,
		slot, id, workspaceID, slot)
	if err != nil {
		return false, wrap("claim report run", err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap("claim report run", err)
}

// SetReportError implements store.ReportSchedules.
func (db *DB) SetReportError(ctx context.Context, workspaceID, id int64, msg string) error {
	_, err := db.exec(ctx, db.pool, `UPDATE report_schedules SET last_error = ? WHERE id = ? AND workspace_id = ?`, msg, id, workspaceID)
	return wrap("set report error", err)
}
