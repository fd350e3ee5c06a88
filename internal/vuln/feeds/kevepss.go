package feeds

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/vuln"
	"github.com/vigil-project/vigil/internal/vuln/epss"
	"github.com/vigil-project/vigil/internal/vuln/gz"
	"github.com/vigil-project/vigil/internal/vuln/kev"
)

// openMaybeGzip opens a file, decompressing it when it starts with the
// gzip magic bytes, whatever its name.
func openMaybeGzip(path string) (io.Reader, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	r, err := gz.Reader(f)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, f.Close, nil
}

// ImportKEV replaces the KEV catalogue with the one in path.
func (im *Importer) ImportKEV(ctx context.Context, path string) (*Result, error) {
	start := time.Now()
	res := &Result{Feed: "kev", Source: path}
	r, closeFn, err := openMaybeGzip(path)
	if err != nil {
		im.record(ctx, "kev", path, "", 0, err)
		return res, fmt.Errorf("import KEV: %w", err)
	}
	defer closeFn()
	var entries []vuln.KEV
	cat, err := kev.Decode(r, func(k *vuln.KEV) error { entries = append(entries, *k); return nil })
	err = im.saveKEV(ctx, res, cat, entries, err)
	im.record(ctx, "kev", path, cat.Version, int64(len(entries)), err)
	res.Duration = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("import KEV %s: %w", path, err)
	}
	return res, nil
}

// saveKEV stores a decoded catalogue unless decoding failed: a catalogue
// read halfway must not replace a whole one.
func (im *Importer) saveKEV(ctx context.Context, res *Result, cat kev.Catalog, entries []vuln.KEV, err error) error {
	res.Records, res.Skipped = len(entries), cat.Skipped
	for _, e := range cat.Errors {
		res.Errors = append(res.Errors, e.Error())
	}
	if cat.Warning != "" {
		im.Log.Warn("KEV catalogue", "warning", cat.Warning)
	}
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return fmt.Errorf("no entries in the catalogue")
	}
	if err := im.Store.ReplaceKEV(ctx, entries); err != nil {
		return err
	}
	res.Changed = len(entries)
	im.Log.Info("KEV catalogue imported", "version", cat.Version, "entries", len(entries), "skipped", cat.Skipped)
	return nil
}

// SyncKEV downloads the catalogue unless it is unchanged since the last sync.
func (im *Importer) SyncKEV(ctx context.Context, c *kev.Client) (*Result, error) {
	start := time.Now()
	source := c.URL
	if source == "" {
		source = kev.DefaultURL
	}
	res := &Result{Feed: "kev", Source: source}
	var prev kev.Validators
	var had int64
	if st, err := im.Store.GetFeedState(ctx, "kev"); err == nil {
		prev.ETag, prev.LastModified = splitValidators(st.Cursor)
		had = st.Records
	}
	var entries []vuln.KEV
	fr, err := c.Fetch(ctx, prev, func(k *vuln.KEV) error { entries = append(entries, *k); return nil })
	if err == nil && fr.NotModified {
		res.Source += " (unchanged)"
		im.record(ctx, "kev", source, joinValidators(fr.Validators.ETag, fr.Validators.LastModified), had, nil)
		return res, nil
	}
	if err == nil {
		err = im.saveKEV(ctx, res, fr.Catalog, entries, nil)
	}
	im.record(ctx, "kev", source, joinValidators(fr.Validators.ETag, fr.Validators.LastModified), int64(len(entries)), err)
	res.Duration = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("sync KEV: %w", err)
	}
	return res, nil
}

// epssBatch rows per transaction: the file has about 300,000.
const epssBatch = 5000

// ImportEPSS stores the scores in an EPSS CSV.
func (im *Importer) ImportEPSS(ctx context.Context, path string) (*Result, error) {
	start := time.Now()
	res := &Result{Feed: "epss", Source: path}
	r, closeFn, err := openMaybeGzip(path)
	if err != nil {
		im.record(ctx, "epss", path, "", 0, err)
		return res, fmt.Errorf("import EPSS: %w", err)
	}
	defer closeFn()
	model, err := im.decodeEPSS(ctx, res, func(fn func(*vuln.EPSS) error) (epss.Result, error) { return epss.Decode(r, fn) })
	im.record(ctx, "epss", path, model, int64(res.Records), orNoRecords(err, res.Records))
	res.Duration = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("import EPSS %s: %w", path, err)
	}
	return res, nil
}

// SyncEPSS downloads the current scores unless unchanged since last time.
func (im *Importer) SyncEPSS(ctx context.Context, c *epss.Client) (*Result, error) {
	start := time.Now()
	source := c.URL
	if source == "" {
		source = epss.DefaultURL
	}
	res := &Result{Feed: "epss", Source: source}
	var prev epss.Validators
	if st, err := im.Store.GetFeedState(ctx, "epss"); err == nil {
		prev.ETag, prev.LastModified = splitValidators(st.Cursor)
	}
	var fr epss.FetchResult
	_, err := im.decodeEPSS(ctx, res, func(fn func(*vuln.EPSS) error) (epss.Result, error) {
		var err error
		fr, err = c.Fetch(ctx, prev, fn)
		return fr.Result, err
	})
	if err == nil && fr.NotModified {
		res.Source += " (unchanged)"
	}
	im.record(ctx, "epss", source, joinValidators(fr.Validators.ETag, fr.Validators.LastModified), int64(res.Records), err)
	res.Duration = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("sync EPSS: %w", err)
	}
	return res, nil
}

// decodeEPSS runs decode, writing scores in batches.
func (im *Importer) decodeEPSS(ctx context.Context, res *Result, decode func(func(*vuln.EPSS) error) (epss.Result, error)) (string, error) {
	batch := make([]vuln.EPSS, 0, epssBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := im.Store.UpsertEPSS(ctx, batch)
		res.Changed += len(batch)
		batch = batch[:0]
		return err
	}
	dr, err := decode(func(e *vuln.EPSS) error {
		batch = append(batch, *e)
		if len(batch) >= epssBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	res.Records, res.Skipped = dr.Rows, dr.Skipped
	for _, e := range dr.Errors {
		res.Errors = append(res.Errors, e.Error())
	}
	return dr.Model, err
}

// Conditional-download validators are kept in the feed's cursor.
func joinValidators(etag, lastModified string) string {
	if etag == "" && lastModified == "" {
		return ""
	}
	return etag + "\n" + lastModified
}

func splitValidators(cursor string) (etag, lastModified string) {
	etag, lastModified, _ = strings.Cut(cursor, "\n")
	return etag, lastModified
}
