package feeds

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-project/vigil/internal/vuln/sapnotes"
)

// SAPRematcher re-matches every SAP host after the notes catalogue
// changed. The service implements it; an Importer whose Rematch does not
// skips the re-match.
type SAPRematcher interface {
	RematchSAP(ctx context.Context) (hosts int, err error)
}

// sapFeed is the feed_state name of the SAP Security Notes catalogue.
const sapFeed = "sap"

// ImportSAP imports an SAP Security Notes catalogue from a JSON or CSV
// file (gzipped or not). Malformed records are skipped and listed in
// Result.Errors with their index and reason; the rest are stored.
func (im *Importer) ImportSAP(ctx context.Context, path string) (*Result, error) {
	start := time.Now()
	res := &Result{Feed: sapFeed, Source: path}
	r, closeFn, err := openMaybeGzip(path)
	if err != nil {
		im.record(ctx, sapFeed, path, "", 0, err)
		return res, fmt.Errorf("import SAP notes: %w", err)
	}
	defer closeFn()
	w := &sapWriter{im: im, res: res}
	dr, err := sapnotes.DecodeAny(r, path, func(n *sapnotes.Note) error { return w.add(ctx, n) })
	if err == nil {
		err = w.flush(ctx)
	}
	im.sapResult(res, dr)
	im.record(ctx, sapFeed, path, dr.Version, int64(dr.Delivered), orNoRecords(err, dr.Delivered))
	if err == nil {
		err = im.rematchSAP(ctx, res)
	}
	res.Duration = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("import SAP notes %s: %w", path, err)
	}
	im.Log.Info("SAP notes import done", "source", path, "records", res.Records, "changed", res.Changed,
		"skipped", res.Skipped, "hosts_rematched", res.Hosts)
	return res, nil
}

// SyncSAP downloads the catalogue from the configured URL unless it is
// unchanged since the last sync, and imports it.
func (im *Importer) SyncSAP(ctx context.Context, c *sapnotes.Client) (*Result, error) {
	start := time.Now()
	res := &Result{Feed: sapFeed, Source: c.URL}
	var prev sapnotes.Validators
	var had int64
	if st, err := im.Store.GetFeedState(ctx, sapFeed); err == nil && st.Source == c.URL {
		prev.ETag, prev.LastModified = splitValidators(st.Cursor)
		had = st.Records
	}
	w := &sapWriter{im: im, res: res}
	fr, err := c.Fetch(ctx, prev, func(n *sapnotes.Note) error { return w.add(ctx, n) })
	if err == nil && fr.NotModified {
		res.Source += " (unchanged)"
		im.record(ctx, sapFeed, c.URL, joinValidators(fr.Validators.ETag, fr.Validators.LastModified), had, nil)
		return res, nil
	}
	if err == nil {
		err = w.flush(ctx)
	}
	im.sapResult(res, fr.Result)
	if err == nil && fr.Result.Delivered == 0 {
		err = fmt.Errorf("no usable notes in the catalogue")
	}
	im.record(ctx, sapFeed, c.URL, joinValidators(fr.Validators.ETag, fr.Validators.LastModified), int64(fr.Result.Delivered), err)
	if err == nil {
		err = im.rematchSAP(ctx, res)
	}
	res.Duration = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("sync SAP notes: %w", err)
	}
	return res, nil
}

func (im *Importer) sapResult(res *Result, dr sapnotes.Result) {
	res.Records, res.Skipped = dr.Seen, dr.Skipped
	for _, e := range dr.Errors {
		res.Errors = append(res.Errors, e.Error())
	}
	for _, w := range dr.Warnings {
		im.Log.Warn("SAP notes catalogue", "warning", w)
	}
}

func (im *Importer) rematchSAP(ctx context.Context, res *Result) error {
	rm, ok := im.Rematch.(SAPRematcher)
	if !ok || res.Changed == 0 {
		return nil
	}
	n, err := rm.RematchSAP(ctx)
	res.Hosts += n
	if err != nil {
		return fmt.Errorf("re-match SAP hosts: %w", err)
	}
	return nil
}

// sapWriter batches notes into the store.
type sapWriter struct {
	im    *Importer
	res   *Result
	batch []*sapnotes.Note
}

func (w *sapWriter) add(ctx context.Context, n *sapnotes.Note) error {
	w.batch = append(w.batch, n)
	if len(w.batch) >= batchSize {
		return w.flush(ctx)
	}
	return nil
}

func (w *sapWriter) flush(ctx context.Context) error {
	if len(w.batch) == 0 {
		return nil
	}
	n, err := w.im.Store.UpsertSAPNotes(ctx, w.batch, w.im.now())
	w.batch = w.batch[:0]
	w.res.Changed += n
	return err
}
