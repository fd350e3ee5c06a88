package store

import (
	"context"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
)

// ReportSchedules stores the scheduled e-mail reports of host groups.
type ReportSchedules interface {
	// CreateReportSchedule stores r; its group and channel must be the
	// workspace's (EINVALID otherwise).
	CreateReportSchedule(ctx context.Context, r *domain.ReportSchedule) error
	ListReportSchedules(ctx context.Context, workspaceID int64) ([]domain.ReportSchedule, error)
	DeleteReportSchedule(ctx context.Context, workspaceID, id int64) error
	// AllReportSchedules lists every workspace's schedules, for the job
	// that sends the due ones.
	AllReportSchedules(ctx context.Context) ([]domain.ReportSchedule, error)
	// ClaimReportRun records that the schedule's slot is being sent; it
	// returns false when another replica claimed that slot first.
	ClaimReportRun(ctx context.Context, workspaceID, id int64, slot time.Time) (bool, error)
	// SetReportError records the outcome of the last run ("" on success).
	SetReportError(ctx context.Context, workspaceID, id int64, msg string) error
}
