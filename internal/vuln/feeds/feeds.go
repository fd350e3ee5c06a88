// Package feeds brings vulnerability data into the store — from files for
// air-gapped sites (Import*) or from the publishers (Sync*) — records what
// each feed did, and re-matches exactly the hosts a change can affect.
package feeds

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/vuln"
	"github.com/vigil-project/vigil/internal/vuln/nvd"
	"github.com/vigil-project/vigil/internal/vuln/osv"
)

// Rematcher re-matches the hosts with packages among keys (nil: all hosts).
type Rematcher interface {
	RematchPackages(ctx context.Context, keys []store.PackageKey) (hosts int, err error)
}

// Importer writes feed data into the store.
type Importer struct {
	Store   store.Store
	Rematch Rematcher // may be nil: no re-matching (used by benchmarks)
	Log     *slog.Logger
	Now     func() time.Time
}

// batchSize bounds one write transaction: big enough to amortise the
// commit, small enough that SQLite's single writer is not held for long.
const batchSize = 500

// Result says what one import or sync did.
type Result struct {
	Feed     string
	Source   string
	Records  int // records read
	Changed  int // records new or modified
	Skipped  int // malformed records skipped
	Errors   []string
	Hosts    int // hosts re-matched
	Duration time.Duration
}

func (im *Importer) now() time.Time {
	if im.Now != nil {
		return im.Now()
	}
	return time.Now().UTC()
}

// record saves the feed's state: success moves the cursor, failure keeps
// the last success and says why.
func (im *Importer) record(ctx context.Context, feed, source, cursor string, records int64, runErr error) {
	now := im.now()
	st, err := im.Store.GetFeedState(ctx, feed)
	if err != nil {
		st = &store.FeedState{Feed: feed}
	}
	st.Source, st.LastAttemptAt = source, &now
	if runErr != nil {
		st.LastError = runErr.Error()
	} else {
		st.LastError, st.LastSuccessAt, st.Records = "", &now, records
		if cursor != "" {
			st.Cursor = cursor
		}
	}
	if err := im.Store.SaveFeedState(context.WithoutCancel(ctx), st); err != nil {
		im.Log.Error("save feed state", "feed", feed, "err", err)
	}
}

// ImportOSV imports OSV advisories from a file, directory or all.zip and
// re-matches the hosts with packages the changed advisories name.
func (im *Importer) ImportOSV(ctx context.Context, path string) (*Result, error) {
	start := time.Now()
	res := &Result{Feed: "osv", Source: path}
	var batch []*vuln.Advisory
	var changed []store.PackageKey
	perEco := map[string]int64{}
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		keys, err := im.Store.UpsertAdvisories(ctx, batch, im.now())
		if err != nil {
			return err
		}
		changed = append(changed, keys...)
		batch = batch[:0]
		return nil
	}
	st, err := osv.Walk(path, func(a *vuln.Advisory) error {
		for _, af := range a.Affected {
			perEco[af.Ecosystem]++
		}
		batch = append(batch, a)
		if len(batch) >= batchSize {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	res.Records, res.Skipped = st.Records, st.Skipped
	for _, e := range st.Errors {
		res.Errors = append(res.Errors, e.Error())
	}
	res.Changed = len(uniquePackages(changed))
	for eco, n := range perEco {
		im.record(ctx, "osv:"+eco, path, "", n, err)
	}
	if len(perEco) == 0 {
		im.record(ctx, "osv", path, "", 0, orNoRecords(err, st.Records))
	}
	if err != nil {
		return res, fmt.Errorf("import OSV %s: %w", path, err)
	}
	if err := im.rematch(ctx, changed, res); err != nil {
		return res, err
	}
	res.Duration = time.Since(start)
	im.Log.Info("OSV import done", "source", path, "records", res.Records, "skipped", res.Skipped,
		"packages_changed", res.Changed, "hosts_rematched", res.Hosts, "duration", res.Duration.Round(time.Millisecond).String())
	return res, nil
}

func orNoRecords(err error, n int) error {
	if err == nil && n == 0 {
		return errors.New("no records found")
	}
	return err
}

func uniquePackages(keys []store.PackageKey) []store.PackageKey {
	seen := map[store.PackageKey]bool{}
	out := keys[:0:0]
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ecosystem+out[i].Package < out[j].Ecosystem+out[j].Package })
	return out
}

func (im *Importer) rematch(ctx context.Context, keys []store.PackageKey, res *Result) error {
	if im.Rematch == nil || len(keys) == 0 {
		return nil
	}
	n, err := im.Rematch.RematchPackages(ctx, uniquePackages(keys))
	res.Hosts = n
	if err != nil {
		return fmt.Errorf("re-match after %s import: %w", res.Feed, err)
	}
	return nil
}

// ImportNVD imports NVD CVE records (API pages, 2.0 feed files, single
// records, gzip or plain, or a directory of them) and refreshes the scores
// of the findings whose CVEs changed.
func (im *Importer) ImportNVD(ctx context.Context, path string) (*Result, error) {
	start := time.Now()
	res := &Result{Feed: "nvd", Source: path}
	w := &cveWriter{im: im, res: res}
	st, err := nvd.ImportFile(path, func(c *vuln.CVE) error { return w.add(ctx, c) })
	if err == nil {
		err = w.flush(ctx)
	}
	res.Records, res.Skipped = st.Records, st.Skipped
	for _, e := range st.Errors {
		res.Errors = append(res.Errors, e.Error())
	}
	im.record(ctx, "nvd", path, w.cursor(), int64(res.Records), orNoRecords(err, res.Records))
	if err != nil {
		return res, fmt.Errorf("import NVD %s: %w", path, err)
	}
	res.Duration = time.Since(start)
	im.Log.Info("NVD import done", "source", path, "records", res.Records, "changed", res.Changed,
		"skipped", res.Skipped, "duration", res.Duration.Round(time.Millisecond).String())
	return res, nil
}

// cveWriter batches CVEs into the store and refreshes the scores of
// existing findings for the CVEs that changed.
type cveWriter struct {
	im     *Importer
	res    *Result
	batch  []*vuln.CVE
	latest time.Time // newest lastModified seen
}

func (w *cveWriter) add(ctx context.Context, c *vuln.CVE) error {
	if c.Modified.After(w.latest) {
		w.latest = c.Modified
	}
	w.batch = append(w.batch, c)
	if len(w.batch) >= batchSize {
		return w.flush(ctx)
	}
	return nil
}

func (w *cveWriter) flush(ctx context.Context) error {
	if len(w.batch) == 0 {
		return nil
	}
	ids, err := w.im.Store.UpsertCVEs(ctx, w.batch)
	w.batch = w.batch[:0]
	if err != nil {
		return err
	}
	w.res.Changed += len(ids)
	if len(ids) > 0 {
		return w.im.Store.RescoreFindings(ctx, ids)
	}
	return nil
}

// cursor is the resume point of an incremental sync.
func (w *cveWriter) cursor() string {
	if w.latest.IsZero() {
		return ""
	}
	return w.latest.UTC().Format(time.RFC3339)
}
