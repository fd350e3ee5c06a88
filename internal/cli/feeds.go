package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-project/vigil/internal/vuln/epss"
	"github.com/vigil-project/vigil/internal/vuln/feeds"
	"github.com/vigil-project/vigil/internal/vuln/kev"
	"github.com/vigil-project/vigil/internal/vuln/nvd"
	"github.com/vigil-project/vigil/internal/vuln/osv"
	"github.com/vigil-project/vigil/internal/vuln/sapnotes"
)

func newFeedsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "feeds",
		Short: "Import, sync and inspect vulnerability data (OSV, NVD, CISA KEV, EPSS)",
		Long: `Vulnerability data is shared by every workspace of a server. It comes from:

  OSV    distribution advisories (Debian, Ubuntu, Alpine, AlmaLinux, Rocky
         Linux, Red Hat, SUSE): what is affected and which version fixes it
  NVD    CVE descriptions and CVSS scores
  KEV    CISA's catalogue of vulnerabilities exploited in the wild
  EPSS   the probability that a CVE is exploited in the next 30 days
  SAP    SAP Security Notes, for workspaces with SAP in scope (docs/sap.md):
         imported with --sap, synced only from a --sap-url you configure

'vigil feeds import' reads files (for air-gapped sites); 'vigil feeds sync'
downloads from the publishers; 'vigil feeds status' shows what each feed
last did. Both re-match the hosts the new data can affect.`,
	}
	cmd.AddCommand(newFeedsImportCmd(), newFeedsSyncCmd(), newFeedsStatusCmd())
	return cmd
}

func newFeedsImportCmd() *cobra.Command {
	var f serverFlags
	var osvPaths, nvdPaths []string
	var kevPath, epssPath string
	var sapPaths []string
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Import vulnerability data from files",
		Long: `Import vulnerability data from files, for sites without internet access.

  --osv   OSV records: a .json file, a directory of them, or an osv.dev
          per-ecosystem all.zip (repeatable)
  --nvd   NVD CVE API 2.0 pages, 2.0 feed files (nvdcve-2.0-*.json[.gz]),
          single CVE records, or a directory of them (repeatable)
  --kev   the CISA KEV catalogue (known_exploited_vulnerabilities.json[.gz])
  --epss  an EPSS scores CSV (epss_scores-*.csv[.gz])
  --sap   an SAP Security Notes catalogue, JSON or CSV (docs/sap.md) (repeatable)

Malformed records are reported and skipped; the rest are imported.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnvAndFile(cmd.Flags(), ""); err != nil {
				return err
			}
			if len(osvPaths)+len(nvdPaths)+len(sapPaths) == 0 && kevPath == "" && epssPath == "" {
				return fmt.Errorf("nothing to import: give --osv, --nvd, --kev, --epss or --sap")
			}
			b, err := openBackend(cmd.Context(), &f, cmd.ErrOrStderr(), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer b.Close()
			im := b.importer()
			out := cmd.OutOrStdout()
			var firstErr error
			report := func(r *feeds.Result, err error) {
				printResult(out, r, err)
				if err != nil && firstErr == nil {
					firstErr = err
				}
			}
			ctx := cmd.Context()
			// NVD first, so that findings raised by the OSV import get scores.
			for _, p := range nvdPaths {
				report(im.ImportNVD(ctx, p))
			}
			if kevPath != "" {
				report(im.ImportKEV(ctx, kevPath))
			}
			if epssPath != "" {
				report(im.ImportEPSS(ctx, epssPath))
			}
			for _, p := range osvPaths {
				report(im.ImportOSV(ctx, p))
			}
			for _, p := range sapPaths {
				report(im.ImportSAP(ctx, p))
			}
			return firstErr
		},
	}
	f.register(cmd)
	fs := cmd.Flags()
	fs.StringArrayVar(&osvPaths, "osv", nil, "OSV file, directory or all.zip (repeatable)")
	fs.StringArrayVar(&nvdPaths, "nvd", nil, "NVD 2.0 JSON file or directory (repeatable)")
	fs.StringVar(&kevPath, "kev", "", "CISA KEV catalogue JSON")
	fs.StringVar(&epssPath, "epss", "", "EPSS scores CSV")
	fs.StringArrayVar(&sapPaths, "sap", nil, "SAP Security Notes catalogue, JSON or CSV (repeatable)")
	return cmd
}

func printResult(w io.Writer, r *feeds.Result, err error) {
	if r == nil {
		fmt.Fprintf(w, "error: %v\n", err)
		return
	}
	status := "ok"
	if err != nil {
		status = "FAILED: " + err.Error()
	}
	fmt.Fprintf(w, "%-5s %s: %d records, %d changed, %d skipped, %d hosts re-matched in %s — %s\n",
		r.Feed, r.Source, r.Records, r.Changed, r.Skipped, r.Hosts, r.Duration.Round(time.Millisecond), status)
	for i, e := range r.Errors {
		if i == 10 {
			fmt.Fprintf(w, "      ... and %d more skipped records\n", len(r.Errors)-10)
			break
		}
		fmt.Fprintf(w, "      skipped: %s\n", e)
	}
}

func newFeedsStatusCmd() *cobra.Command {
	var f serverFlags
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show when each feed last ran, from what, and whether it failed",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnvAndFile(cmd.Flags(), ""); err != nil {
				return err
			}
			b, err := openBackend(cmd.Context(), &f, cmd.ErrOrStderr(), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer b.Close()
			states, err := b.store.ListFeedStates(cmd.Context())
			if err != nil {
				return err
			}
			if len(states) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "No feed has run yet: use 'vigil feeds import' or 'vigil feeds sync'.")
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "FEED\tLAST SUCCESS\tRECORDS\tCURSOR\tSOURCE\tLAST ERROR")
			for _, s := range states {
				last := "never"
				if s.LastSuccessAt != nil {
					last = s.LastSuccessAt.Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", s.Feed, last, s.Records, s.Cursor, s.Source, s.LastError)
			}
			return tw.Flush()
		},
	}
	f.register(cmd)
	return cmd
}

// importer returns the feed importer of an opened backend.
func (b *backend) importer() *feeds.Importer {
	return &feeds.Importer{Store: b.store, Rematch: b.svc, Log: b.log, Now: b.svc.Now}
}

// syncFlags configure the online feed sources.
type syncFlags struct {
	only       []string
	nvdURL     string
	nvdKey     string
	osvURL     string
	ecosystems []string
	kevURL     string
	epssURL    string
	sapURL     string
	dir        string
}

func (sf *syncFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringSliceVar(&sf.only, "feeds", []string{"nvd", "kev", "epss", "osv", "sap"}, "feeds to sync: nvd, kev, epss, osv, sap (sap only with --sap-url)")
	fs.StringVar(&sf.nvdURL, "nvd-url", "", "NVD CVE API 2.0 base URL (default the NVD's)")
	fs.StringVar(&sf.nvdKey, "nvd-api-key", "", "NVD API key: raises the rate limit from 5 to 50 requests per 30 s")
	fs.StringVar(&sf.osvURL, "osv-url", "", "base URL of the per-ecosystem OSV archives (default osv.dev's bucket)")
	fs.StringSliceVar(&sf.ecosystems, "osv-ecosystems", nil, "OSV ecosystems to download (default: those of the scanned hosts), e.g. Debian,AlmaLinux")
	fs.StringVar(&sf.kevURL, "kev-url", "", "CISA KEV catalogue URL")
	fs.StringVar(&sf.epssURL, "epss-url", "", "EPSS scores CSV URL")
	fs.StringVar(&sf.sapURL, "sap-url", "", "URL of an SAP Security Notes catalogue (JSON or CSV, docs/sap.md); synced only when set")
	fs.StringVar(&sf.dir, "feeds-dir", "", "where downloaded archives are kept (default DATA/feeds)")
}

func (sf *syncFlags) wants(feed string) bool {
	for _, f := range sf.only {
		if strings.EqualFold(strings.TrimSpace(f), feed) {
			return true
		}
	}
	return false
}

// syncFeeds runs every wanted online feed, NVD first so that findings the
// OSV import raises are scored. It returns the first error after trying all.
func syncFeeds(ctx context.Context, b *backend, sf *syncFlags, dataDir string, out io.Writer) error {
	im := b.importer()
	var firstErr error
	report := func(r *feeds.Result, err error) {
		printResult(out, r, err)
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if sf.wants("nvd") {
		report(im.SyncNVD(ctx, &nvd.Client{BaseURL: sf.nvdURL, APIKey: sf.nvdKey}))
	}
	if sf.wants("kev") {
		report(im.SyncKEV(ctx, &kev.Client{URL: sf.kevURL}))
	}
	if sf.wants("epss") {
		report(im.SyncEPSS(ctx, &epss.Client{URL: sf.epssURL}))
	}
	// SAP publishes no feed of its own: the catalogue comes from a URL
	// the operator configures, and is skipped without one.
	if sf.sapURL != "" && sf.wants("sap") {
		report(im.SyncSAP(ctx, &sapnotes.Client{URL: sf.sapURL}))
	}
	if sf.wants("osv") {
		ecos := sf.ecosystems
		if len(ecos) == 0 {
			var err error
			if ecos, err = im.HostEcosystems(ctx); err != nil {
				return err
			}
		}
		if len(ecos) == 0 {
			fmt.Fprintln(out, "osv   no scanned hosts yet and no --osv-ecosystems: nothing to download")
		}
		dir := sf.dir
		if dir == "" {
			dir = filepath.Join(dataDir, "feeds")
		}
		results, err := im.SyncOSV(ctx, &osv.Client{BaseURL: sf.osvURL}, dir, ecos)
		for _, r := range results {
			printResult(out, r, nil)
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

func newFeedsSyncCmd() *cobra.Command {
	var f serverFlags
	var sf syncFlags
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Download vulnerability data from the publishers and import it",
		Long: `Download vulnerability data and import what changed.

NVD is incremental after the first run (records modified since the last
success, in windows of at most 120 days) and honours NVD's rate limits (use
--nvd-api-key for the higher limit). KEV, EPSS and the OSV archives are
downloaded only when the publisher says they changed. OSV ecosystems default
to those of the hosts already scanned.

'vigil serve --feeds-sync-interval 24h' runs the same sync on a schedule.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnvAndFile(cmd.Flags(), ""); err != nil {
				return err
			}
			b, err := openBackend(cmd.Context(), &f, cmd.ErrOrStderr(), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer b.Close()
			return syncFeeds(cmd.Context(), b, &sf, f.dataDir, cmd.OutOrStdout())
		},
	}
	f.register(cmd)
	sf.register(cmd)
	return cmd
}
