package feeds

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/vuln"
	"github.com/vigil-project/vigil/internal/vuln/nvd"
	"github.com/vigil-project/vigil/internal/vuln/osv"
)

// SyncNVD fetches the CVEs modified since the last successful NVD sync or
// import (everything on the first run), and refreshes scores.
func (im *Importer) SyncNVD(ctx context.Context, c *nvd.Client) (*Result, error) {
	start := time.Now()
	source := c.BaseURL
	if source == "" {
		source = nvd.DefaultBaseURL
	}
	res := &Result{Feed: "nvd", Source: source}
	var since time.Time
	if st, err := im.Store.GetFeedState(ctx, "nvd"); err == nil && st.Cursor != "" {
		if t, err := time.Parse(time.RFC3339, st.Cursor); err == nil {
			since = t
		}
	}
	w := &cveWriter{im: im, res: res}
	st, err := c.Sync(ctx, since, time.Time{}, func(cv *vuln.CVE) error { return w.add(ctx, cv) })
	if err == nil {
		err = w.flush(ctx)
	}
	res.Records, res.Skipped = st.Records, st.Skipped
	for _, e := range st.Errors {
		res.Errors = append(res.Errors, e.Error())
	}
	cursor := ""
	if err == nil && !st.Until.IsZero() {
		cursor = st.Until.UTC().Format(time.RFC3339)
	}
	im.record(ctx, "nvd", source, cursor, int64(res.Records), err)
	res.Duration = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("sync NVD: %w", err)
	}
	return res, nil
}

// SyncOSV downloads each ecosystem's all.zip into dir (conditionally: an
// unchanged archive costs one 304) and imports the ones that changed.
func (im *Importer) SyncOSV(ctx context.Context, c *osv.Client, dir string, ecosystems []string) ([]*Result, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	var out []*Result
	var firstErr error
	for _, eco := range ecosystems {
		dst := filepath.Join(dir, strings.ReplaceAll(eco, " ", "_")+"-all.zip")
		changed, err := c.Download(ctx, eco, dst)
		if err != nil {
			im.record(ctx, "osv:"+eco, c.ArchiveURL(eco), "", 0, err)
			out = append(out, &Result{Feed: "osv", Source: c.ArchiveURL(eco)})
			if firstErr == nil {
				firstErr = err
			}
			im.Log.Error("OSV download failed", "ecosystem", eco, "err", err)
			continue
		}
		if !changed {
			out = append(out, &Result{Feed: "osv", Source: c.ArchiveURL(eco) + " (unchanged)"})
			continue
		}
		r, err := im.ImportOSV(ctx, dst)
		out = append(out, r)
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return out, firstErr
}

// HostEcosystems returns the OSV archive names (base ecosystems, as osv.dev
// files them) that the scanned hosts need.
func (im *Importer) HostEcosystems(ctx context.Context) ([]string, error) {
	targets, err := im.Store.MatchTargets(ctx, nil)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, t := range targets {
		for _, e := range osv.Ecosystems(t.OS, osv.Options{}) {
			b := osv.Base(e)
			if !seen[b] {
				seen[b] = true
				out = append(out, b)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}
