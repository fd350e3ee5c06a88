package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-project/vigil/internal/service"
)

// EvaluateHostArgs asks for one host's alert rules to be evaluated after
// its report.
type EvaluateHostArgs struct {
	WorkspaceID int64 `json:"workspace_id"`
	HostID      int64 `json:"host_id"`
}

func (EvaluateHostArgs) Kind() string { return "vigil_alert_evaluate_host" }

func (EvaluateHostArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, MaxAttempts: 5}
}

type evaluateWorker struct {
	river.WorkerDefaults[EvaluateHostArgs]
	svc *service.Service
}

func (w *evaluateWorker) Work(ctx context.Context, j *river.Job[EvaluateHostArgs]) error {
	_, err := w.svc.EvaluateHostAlerts(ctx, j.Args.WorkspaceID, j.Args.HostID)
	return err
}

// DeliverArgs delivers one notification.
type DeliverArgs struct {
	WorkspaceID    int64 `json:"workspace_id"`
	NotificationID int64 `json:"notification_id"`
}

func (DeliverArgs) Kind() string { return "vigil_alert_deliver" }

func (DeliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDeliveries}
}

type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	svc       *service.Service
	base, max time.Duration
}

func (w *deliverWorker) Work(ctx context.Context, j *river.Job[DeliverArgs]) error {
	final := j.Attempt >= j.MaxAttempts
	return w.svc.DeliverNotification(ctx, j.Args.WorkspaceID, j.Args.NotificationID, final)
}

// NextRetry doubles the delay from base on each failed attempt, capped at
// max: a receiver that is down for a deploy gets a few quick retries, one
// down for hours is not hammered.
func (w *deliverWorker) NextRetry(j *river.Job[DeliverArgs]) time.Time {
	return time.Now().Add(Backoff(w.base, w.max, j.Attempt))
}

// Backoff is the delay before the retry that follows the given attempt
// (1-based): base, 2·base, 4·base ... at most max.
func Backoff(base, max time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// SweepArgs runs the periodic alert sweep.
type SweepArgs struct{}

func (SweepArgs) Kind() string { return "vigil_alert_sweep" }

func (SweepArgs) InsertOpts() river.InsertOpts {
	// Not retried: the next sweep comes soon enough.
	return river.InsertOpts{MaxAttempts: 1}
}

type sweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	svc *service.Service
}

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	return w.svc.SweepAlerts(ctx)
}

// DigestArgs sends the digests of one mode (hourly, daily).
type DigestArgs struct {
	Mode string `json:"mode"`
}

func (DigestArgs) Kind() string { return "vigil_alert_digest" }

func (DigestArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 3} }

type digestWorker struct {
	river.WorkerDefaults[DigestArgs]
	svc *service.Service
}

func (w *digestWorker) Work(ctx context.Context, j *river.Job[DigestArgs]) error {
	return w.svc.SendDigests(ctx, j.Args.Mode)
}

// FanOutArgs queues the delivery jobs of a large batch of notifications.
type FanOutArgs struct {
	WorkspaceID     int64   `json:"workspace_id"`
	NotificationIDs []int64 `json:"notification_ids"`
}

func (FanOutArgs) Kind() string { return "vigil_alert_fan_out" }

func (FanOutArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueueDefault} }

type fanOutWorker struct {
	river.WorkerDefaults[FanOutArgs]
	q *Queue
}

func (w *fanOutWorker) Work(ctx context.Context, j *river.Job[FanOutArgs]) error {
	return w.q.insertDeliveries(ctx, j.Args.WorkspaceID, j.Args.NotificationIDs)
}
