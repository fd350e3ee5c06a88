package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-project/vigil/internal/service"
)

// ExceptionSweepInterval is how often lapsed exceptions are recorded and
// what they covered reopened (the reopening itself takes effect at the
// expiry instant; the sweep writes the history and clears stale copies).
const ExceptionSweepInterval = time.Minute

// ExceptionSweepArgs runs service.SweepExpiredExceptions.
type ExceptionSweepArgs struct{}

func (ExceptionSweepArgs) Kind() string { return "vigil_exception_sweep" }

func (ExceptionSweepArgs) InsertOpts() river.InsertOpts {
	// Not retried: the next sweep comes within a minute.
	return river.InsertOpts{MaxAttempts: 1}
}

type exceptionSweepWorker struct {
	river.WorkerDefaults[ExceptionSweepArgs]
	svc *service.Service
}

func (w *exceptionSweepWorker) Work(ctx context.Context, _ *river.Job[ExceptionSweepArgs]) error {
	_, err := w.svc.SweepExpiredExceptions(ctx)
	return err
}

// exceptionSweepJob is the periodic job; River runs it on one replica at a
// time, and the sweep itself records each lapse once.
func exceptionSweepJob() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(ExceptionSweepInterval),
		func() (river.JobArgs, *river.InsertOpts) { return ExceptionSweepArgs{}, nil },
		&river.PeriodicJobOpts{ID: "exception_sweep", RunOnStart: true})
}

// ReportInterval is how often scheduled e-mail reports are looked at;
// schedules are by the hour, so a report goes out within this of its hour.
const ReportInterval = 5 * time.Minute

// ReportArgs runs service.SendDueReports.
type ReportArgs struct{}

func (ReportArgs) Kind() string { return "vigil_scheduled_reports" }

func (ReportArgs) InsertOpts() river.InsertOpts {
	// Not retried: SendDueReports claims each slot before sending and
	// records a failure on the schedule.
	return river.InsertOpts{MaxAttempts: 1}
}

type reportWorker struct {
	river.WorkerDefaults[ReportArgs]
	svc *service.Service
}

func (w *reportWorker) Work(ctx context.Context, _ *river.Job[ReportArgs]) error {
	_, err := w.svc.SendDueReports(ctx)
	return err
}

func reportJob() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(ReportInterval),
		func() (river.JobArgs, *river.InsertOpts) { return ReportArgs{}, nil },
		&river.PeriodicJobOpts{ID: "scheduled_reports", RunOnStart: true})
}
