package demo

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed feeds
var feedsFS embed.FS

// FeedBundle names the files of the bundled sample vulnerability data.
type FeedBundle struct {
	OSV, KEV, NVD, SAP string
}

// WriteFeedBundle writes the bundled feed files into dir, for the normal
// importers to read like any offline feed.
func WriteFeedBundle(dir string) (*FeedBundle, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	out := func(name string) (string, error) {
		b, err := fs.ReadFile(feedsFS, "feeds/"+name)
		if err != nil {
			return "", fmt.Errorf("demo feed bundle: %w", err)
		}
		p := filepath.Join(dir, name)
		return p, os.WriteFile(p, b, 0o600)
	}
	var b FeedBundle
	var err error
	if b.OSV, err = out("almalinux9-osv-all.zip"); err != nil {
		return nil, err
	}
	if b.KEV, err = out("kev.json.gz"); err != nil {
		return nil, err
	}
	if b.NVD, err = out("nvd-page-sample.json.gz"); err != nil {
		return nil, err
	}
	if b.SAP, err = out("sap-notes-catalog.json.gz"); err != nil {
		return nil, err
	}
	return &b, nil
}
