package jobs_test

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/alert"
	"github.com/vigil-project/vigil/internal/jobs"
	"github.com/vigil-project/vigil/internal/secrets"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/store/postgres"
	"github.com/vigil-project/vigil/internal/store/sqldb"
	"github.com/vigil-project/vigil/internal/store/sqlite"
)

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		attempt int
		want    time.Duration
	}{{1, 30 * time.Second}, {2, time.Minute}, {3, 2 * time.Minute}, {7, 32 * time.Minute}, {8, time.Hour}, {50, time.Hour}} {
		if got := jobs.Backoff(30*time.Second, time.Hour, tc.attempt); got != tc.want {
			t.Errorf("attempt %d: %s, want %s", tc.attempt, got, tc.want)
		}
	}
}

// TestQueueDelivers runs the queue on each database: River's tables are
// migrated at open, a delivery job is worked, and stopping is clean.
func TestQueueDelivers(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			ctx := context.Background()
			var st *sqldb.DB
			var err error
			var pgURL string
			if db == "sqlite" {
				st, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "vigil.db"))
			} else {
				pgURL = postgres.TestURL(t)
				st, err = postgres.Open(ctx, pgURL)
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			key := make([]byte, secrets.KeySize)
			_, _ = rand.Read(key)
			sealer, _ := secrets.NewSealer(key)
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			svc := service.New(st, sealer, log)
			res, err := svc.Bootstrap(ctx, "correct horse battery")
			if err != nil {
				t.Fatal(err)
			}
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) == 1 {
					w.WriteHeader(http.StatusBadGateway)
				}
			}))
			defer srv.Close()
			admin := service.Actor{UserID: 1, Login: "admin", WorkspaceID: res.Workspace.ID, Role: "admin"}
			ch, err := svc.CreateChannel(ctx, admin, service.ChannelInput{Name: "hook", Kind: alert.ChannelWebhook,
				Config: alert.ChannelConfig{URL: srv.URL}})
			if err != nil {
				t.Fatal(err)
			}
			n := &alert.Notification{WorkspaceID: res.Workspace.ID, ChannelID: ch.ID, Kind: alert.KindTest, Status: alert.NotifyPending,
				Events: []alert.Event{{Kind: alert.KindTest, Title: "queued"}}}
			if err := st.CreateNotification(ctx, n); err != nil {
				t.Fatal(err)
			}
			opts := jobs.Options{Log: log, PollInterval: 20 * time.Millisecond, RetryBase: 50 * time.Millisecond, NoPeriodic: true}
			var q *jobs.Queue
			if db == "sqlite" {
				q, err = jobs.OpenSQLite(ctx, st.SQL(), svc, opts)
			} else {
				q, err = jobs.OpenPostgres(ctx, pgURL, svc, opts)
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := q.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer func() {
				sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				defer cancel()
				if err := q.Stop(sctx); err != nil {
					t.Errorf("stop: %v", err)
				}
			}()
			if err := q.EnqueueDeliveries(ctx, res.Workspace.ID, []int64{n.ID}); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				got, err := st.GetNotification(ctx, res.Workspace.ID, n.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.Status == alert.NotifySent {
					if got.Attempts != 2 || got.History[0].ResponseCode != 502 {
						t.Errorf("notification %+v", got)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("not delivered: %+v", got)
				}
				time.Sleep(20 * time.Millisecond)
			}
			// A batch above the fan-out size goes through one fan-out job
			// and still ends as one delivery per notification.
			var batch []int64
			for i := 0; i < 12; i++ {
				n := &alert.Notification{WorkspaceID: res.Workspace.ID, ChannelID: ch.ID, Kind: alert.KindTest, Status: alert.NotifyPending,
					Events: []alert.Event{{Kind: alert.KindTest, Title: "batch"}}}
				if err := st.CreateNotification(ctx, n); err != nil {
					t.Fatal(err)
				}
				batch = append(batch, n.ID)
			}
			before := calls.Load()
			if err := q.EnqueueDeliveries(ctx, res.Workspace.ID, batch); err != nil {
				t.Fatal(err)
			}
			for calls.Load() < before+12 {
				if time.Now().After(deadline.Add(10 * time.Second)) {
					t.Fatalf("fan-out delivered %d of 12", calls.Load()-before)
				}
				time.Sleep(20 * time.Millisecond)
			}
			time.Sleep(200 * time.Millisecond)
			if got := calls.Load() - before; got != 12 {
				t.Errorf("fan-out made %d calls, want 12", got)
			}
			// River's migrations are idempotent: opening again is fine.
			if db == "sqlite" {
				if _, err := jobs.OpenSQLite(ctx, st.SQL(), svc, opts); err != nil {
					t.Errorf("second open: %v", err)
				}
			}
		})
	}
}

// TestRequeueDoesNotDouble: a notification whose delivery job is waiting
// for its retry is not delivered again when re-queued (the sweep's
// re-queue of stalled notifications relies on this).
func TestRequeueDoesNotDouble(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key := make([]byte, secrets.KeySize)
	_, _ = rand.Read(key)
	sealer, _ := secrets.NewSealer(key)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := service.New(st, sealer, log)
	res, err := svc.Bootstrap(ctx, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	admin := service.Actor{UserID: 1, Login: "admin", WorkspaceID: res.Workspace.ID, Role: "admin"}
	ch, err := svc.CreateChannel(ctx, admin, service.ChannelInput{Name: "hook", Kind: alert.ChannelWebhook, Config: alert.ChannelConfig{URL: srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	n := &alert.Notification{WorkspaceID: res.Workspace.ID, ChannelID: ch.ID, Kind: alert.KindFiring, Status: alert.NotifyPending,
		Events: []alert.Event{{Kind: alert.KindFiring, Title: "x"}}}
	if err := st.CreateNotification(ctx, n); err != nil {
		t.Fatal(err)
	}
	q, err := jobs.OpenSQLite(ctx, st.SQL(), svc, jobs.Options{Log: log, PollInterval: 20 * time.Millisecond, RetryBase: time.Hour, NoPeriodic: true})
	if err != nil {
		t.Fatal(err)
	}
	svc.AlertQueue = q
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		q.Stop(sctx)
	}()
	if err := q.EnqueueDeliveries(ctx, res.Workspace.ID, []int64{n.ID}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for calls.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // the failure is recorded, the retry scheduled in an hour
	// As the sweep would, an hour from now... but the job still exists.
	svc.Now = func() time.Time { return time.Now().UTC().Add(time.Hour) }
	if err := svc.RequeueStalled(ctx, res.Workspace.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if c := calls.Load(); c != 1 {
		t.Fatalf("%d deliveries after a re-queue; want the one waiting for its retry", c)
	}
	got, _ := st.GetNotification(ctx, res.Workspace.ID, n.ID)
	if got.Status != alert.NotifyPending || got.Attempts != 1 {
		t.Errorf("notification %+v", got)
	}
}
