package cli

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/vigil-project/vigil/internal/jobs"
)

// startJobs migrates the job queue's tables, starts its workers and wires
// it into the service as the alert queue. The returned stop lets running
// jobs finish for a few seconds; unfinished ones run again after restart.
func startJobs(ctx context.Context, b *backend) (stop func(), err error) {
	var q *jobs.Queue
	opts := jobs.Options{Log: b.log.With("component", "jobs")}
	if b.dbURL != "" {
		q, err = jobs.OpenPostgres(ctx, b.dbURL, b.svc, opts)
	} else {
		db, ok := b.store.(interface{ SQL() *sql.DB })
		if !ok {
			return nil, fmt.Errorf("jobs: the store has no SQL pool")
		}
		q, err = jobs.OpenSQLite(ctx, db.SQL(), b.svc, opts)
	}
	if err != nil {
		return nil, err
	}
	// Started without the command's cancellation: a signal cancels ctx,
	// which River takes as an abrupt stop of running jobs; stop below lets
	// them finish first.
	if err := q.Start(context.WithoutCancel(ctx)); err != nil {
		return nil, err
	}
	b.svc.AlertQueue = q
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := q.Stop(sctx); err != nil {
			b.log.Warn("stop job queue", "err", err)
		}
	}, nil
}
