// Package jobs runs Vigil's background work on River, a durable job queue
// kept in the server's own database: SQLite (riversqlite) for a single
// server, PostgreSQL (riverpgxv5) when several replicas share the work.
// Jobs survive restarts; a failed delivery is retried with backoff; a slow
// or broken channel holds up only its own jobs.
//
// Job kinds: evaluating a host's alert rules after its report, delivering
// one notification, and the periodic sweep (stale hosts, overdue findings,
// offline agents, failed feeds) and digests.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/vigil-project/vigil/internal/alert"
	"github.com/vigil-project/vigil/internal/service"
)

// Queue names: deliveries wait on the network, so they get their own
// workers and never hold up rule evaluation.
const (
	QueueDefault    = river.QueueDefault
	QueueDeliveries = "deliveries"
)

// Options tune the queue; zero values are the production defaults.
type Options struct {
	Log *slog.Logger
	// PollInterval is how often idle workers look for jobs (default 1s).
	PollInterval time.Duration
	// RetryBase is the first delivery retry delay; each retry doubles it,
	// up to RetryMax (defaults 30s and 1h: eight attempts span about two
	// hours).
	RetryBase, RetryMax time.Duration
	// DeliveryAttempts is how often a notification is tried (default 8).
	DeliveryAttempts int
	// SweepInterval is how often time-based alerts are evaluated (default
	// 5 minutes).
	SweepInterval time.Duration
	// DailyDigestHour is the UTC hour daily digests go out (default 8).
	DailyDigestHour int
	// NoPeriodic leaves out the sweep and digest schedules (tests that run
	// them by hand).
	NoPeriodic bool
}

func (o *Options) defaults() {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.RetryBase <= 0 {
		o.RetryBase = 30 * time.Second
	}
	if o.RetryMax <= 0 {
		o.RetryMax = time.Hour
	}
	if o.DeliveryAttempts <= 0 {
		o.DeliveryAttempts = 8
	}
	if o.SweepInterval <= 0 {
		o.SweepInterval = 5 * time.Minute
	}
	if o.DailyDigestHour <= 0 || o.DailyDigestHour > 23 {
		o.DailyDigestHour = 8
	}
}

// client is what Queue needs of a River client, whatever its driver's
// transaction type.
type client interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error
	InsertMany(ctx context.Context, params []river.InsertManyParams) error
}

type riverClient[TTx any] struct{ c *river.Client[TTx] }

func (r riverClient[TTx]) Start(ctx context.Context) error         { return r.c.Start(ctx) }
func (r riverClient[TTx]) Stop(ctx context.Context) error          { return r.c.Stop(ctx) }
func (r riverClient[TTx]) StopAndCancel(ctx context.Context) error { return r.c.StopAndCancel(ctx) }
func (r riverClient[TTx]) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error {
	_, err := r.c.Insert(ctx, args, opts)
	return err
}
func (r riverClient[TTx]) InsertMany(ctx context.Context, params []river.InsertManyParams) error {
	_, err := r.c.InsertMany(ctx, params)
	return err
}

// Queue is the running job queue. It implements service.AlertQueue.
type Queue struct {
	c        client
	log      *slog.Logger
	attempts int
	close    func()
}

var _ service.AlertQueue = (*Queue)(nil)

// OpenSQLite migrates River's tables into the SQLite database of pool (the
// store's own pool) and returns a queue that is not started yet.
//
// River's SQLite driver advises one connection because SQLite has one
// writer; the store's pool already makes every writer wait its turn
// (busy_timeout, BEGIN IMMEDIATE), which serves River the same way while
// readers keep running alongside.
func OpenSQLite(ctx context.Context, pool *sql.DB, svc *service.Service, o Options) (*Queue, error) {
	return open(ctx, riversqlite.New(pool), svc, o, func() {})
}

// OpenPostgres connects a pgx pool to url (River's PostgreSQL driver needs
// pgx's own pool, not database/sql), migrates River's tables into the
// first schema of the search_path, and returns a queue not started yet.
func OpenPostgres(ctx context.Context, url string, svc *service.Service, o Options) (*Queue, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("jobs: postgres: %w", err)
	}
	cfg.MaxConns = 8
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("jobs: postgres: %w", err)
	}
	q, err := open(ctx, riverpgxv5.New(pool), svc, o, pool.Close)
	if err != nil {
		pool.Close()
	}
	return q, err
}

func open[TTx any](ctx context.Context, drv riverdriver.Driver[TTx], svc *service.Service, o Options, closeFn func()) (*Queue, error) {
	o.defaults()
	m, err := rivermigrate.New(drv, &rivermigrate.Config{Logger: o.Log})
	if err != nil {
		return nil, fmt.Errorf("jobs: migrate: %w", err)
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return nil, fmt.Errorf("jobs: migrate: %w", err)
	}
	if len(res.Versions) > 0 {
		o.Log.Info("job queue tables migrated", "versions", len(res.Versions))
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &evaluateWorker{svc: svc})
	river.AddWorker(workers, &deliverWorker{svc: svc, base: o.RetryBase, max: o.RetryMax})
	river.AddWorker(workers, &sweepWorker{svc: svc})
	river.AddWorker(workers, &digestWorker{svc: svc})
	river.AddWorker(workers, &exceptionSweepWorker{svc: svc})
	river.AddWorker(workers, &reportWorker{svc: svc})
	fan := &fanOutWorker{}
	river.AddWorker(workers, fan)
	cfg := &river.Config{
		Logger:            o.Log,
		FetchPollInterval: o.PollInterval,
		FetchCooldown:     min(o.PollInterval, river.FetchCooldownDefault),
		Queues: map[string]river.QueueConfig{
			QueueDefault:    {MaxWorkers: 2},
			QueueDeliveries: {MaxWorkers: 8},
		},
		Workers: workers,
		// Evaluations and deliveries are not worth keeping for long: the
		// alerts and notifications tables are the history.
		CompletedJobRetentionPeriod: 24 * time.Hour,
	}
	if !o.NoPeriodic {
		cfg.PeriodicJobs = []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(o.SweepInterval),
				func() (river.JobArgs, *river.InsertOpts) { return SweepArgs{}, nil }, &river.PeriodicJobOpts{ID: "alert_sweep"}),
			river.NewPeriodicJob(hourly{}, func() (river.JobArgs, *river.InsertOpts) {
				return DigestArgs{Mode: alert.ModeHourly}, nil
			}, &river.PeriodicJobOpts{ID: "digest_hourly"}),
			river.NewPeriodicJob(daily{hour: o.DailyDigestHour}, func() (river.JobArgs, *river.InsertOpts) {
				return DigestArgs{Mode: alert.ModeDaily}, nil
			}, &river.PeriodicJobOpts{ID: "digest_daily"}),
			exceptionSweepJob(),
			reportJob(),
		}
	}
	c, err := river.NewClient(drv, cfg)
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	q := &Queue{c: riverClient[TTx]{c}, log: o.Log, attempts: o.DeliveryAttempts, close: closeFn}
	fan.q = q
	return q, nil
}

// Start starts working jobs until Stop.
func (q *Queue) Start(ctx context.Context) error {
	if err := q.c.Start(ctx); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	return nil
}

// Stop lets running jobs finish until ctx ends, then cancels them; jobs
// not finished are worked again after the next start. The PostgreSQL pool
// is closed.
func (q *Queue) Stop(ctx context.Context) error {
	err := q.c.Stop(ctx)
	if err != nil && errors.Is(err, context.DeadlineExceeded) {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = q.c.StopAndCancel(cctx)
		cancel()
	}
	if err != nil && strings.Contains(err.Error(), "not started") {
		err = nil
	}
	q.close()
	return err
}

// EnqueueHostAlerts implements service.AlertQueue.
func (q *Queue) EnqueueHostAlerts(ctx context.Context, workspaceID, hostID int64) error {
	return q.c.Insert(ctx, EvaluateHostArgs{WorkspaceID: workspaceID, HostID: hostID}, nil)
}

// fanOutAbove is the batch size from which deliveries are queued through
// one fan-out job: an evaluation that opened 500 alerts then writes one job
// row, not 500, and River's SQLite driver inserts rows one at a time.
const fanOutAbove = 8

// EnqueueDeliveries implements service.AlertQueue: one job per
// notification, so that each is retried on its own.
func (q *Queue) EnqueueDeliveries(ctx context.Context, workspaceID int64, ids []int64) error {
	if len(ids) > fanOutAbove {
		return q.c.Insert(ctx, FanOutArgs{WorkspaceID: workspaceID, NotificationIDs: ids}, nil)
	}
	return q.insertDeliveries(ctx, workspaceID, ids)
}

func (q *Queue) insertDeliveries(ctx context.Context, workspaceID int64, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	ps := make([]river.InsertManyParams, len(ids))
	for i, id := range ids {
		ps[i] = river.InsertManyParams{Args: DeliverArgs{WorkspaceID: workspaceID, NotificationID: id},
			// Unique by notification while its job exists (waiting,
			// running, retrying, or completed within retention): a
			// re-queue of a stalled notification never doubles a delivery.
			InsertOpts: &river.InsertOpts{Queue: QueueDeliveries, MaxAttempts: q.attempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}}
	}
	return q.c.InsertMany(ctx, ps)
}

// Sweep queues an alert sweep now (the CLI and tests).
func (q *Queue) Sweep(ctx context.Context) error { return q.c.Insert(ctx, SweepArgs{}, nil) }

// hourly fires at the top of every hour.
type hourly struct{}

func (hourly) Next(t time.Time) time.Time { return t.UTC().Truncate(time.Hour).Add(time.Hour) }

// daily fires once a day at the hour (UTC).
type daily struct{ hour int }

func (d daily) Next(t time.Time) time.Time {
	t = t.UTC()
	n := time.Date(t.Year(), t.Month(), t.Day(), d.hour, 0, 0, 0, time.UTC)
	if !n.After(t) {
		n = n.AddDate(0, 0, 1)
	}
	return n
}

// pgx is imported for its transaction type only through riverpgxv5; keep
// the compiler honest about the driver's TTx.
var _ riverdriver.Driver[pgx.Tx] = (*riverpgxv5.Driver)(nil)
