package web

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// artifactDir is where the browser test leaves its screenshots and PDF:
// t.ArtifactDir() (go test -artifacts keeps it; without the flag it is a
// temporary directory), or $VIGIL_ARTIFACTS when set.
func artifactDir(t *testing.T) string {
	if d := os.Getenv("VIGIL_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.ArtifactDir()
}

func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium not installed: .ci/run must install it")
	}
	t.Skip("chromium not installed (apt-get install chromium)")
	return ""
}

// TestRiskPagesInBrowser logs into the web app in headless Chromium, opens
// the worklist and the group report, checks what a person would see, and
// saves a screenshot of each and the report printed to PDF.
func TestRiskPagesInBrowser(t *testing.T) {
	bin := chromium(t)
	e := newEnv(t)
	fx := newRiskFixture(t, e)
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	dir := artifactDir(t)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/login?next=/worklist"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="login"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="login"]`), "admin"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), adminPassword),
		chromedp.Submit(chromedp.CSS(`input[name="password"]`)),
		chromedp.WaitVisible(chromedp.CSS(`table.worklist`)),
	); err != nil {
		t.Fatalf("log in and open the worklist: %v", err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`table.worklist tbody`)))
	if err != nil {
		t.Fatal(err)
	}
	// The first line is a KEV openssl upgrade; nginx on web-01 is exposed.
	first, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`table.worklist tbody tr`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(first, "openssl") || !strings.Contains(first, "KEV") || !strings.Contains(first, "3.0.13-1~deb12u1") {
		t.Errorf("first worklist line %q", first)
	}
	if !strings.Contains(rows, "nginx tcp/443") {
		t.Errorf("exposure not shown:\n%s", rows)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	save(t, dir, "worklist.png", shot)

	report := srv.URL + "/reports/groups/" + strconv.FormatInt(fx.group.ID, 10)
	if err := chromedp.Do(ctx, chromedp.Navigate(report), chromedp.WaitVisible(chromedp.CSS(`h1`))); err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`h1`)))
	if err != nil {
		t.Fatal(err)
	}
	summary, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#sum-h + p`)))
	if err != nil {
		t.Fatal(err)
	}
	if title != "Web servers" || !strings.Contains(summary, "2 hosts") {
		t.Errorf("report title %q, summary %q", title, summary)
	}
	// No navigation on the report: it is meant to be printed.
	navs, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("nav.mainnav").length`))
	if err != nil {
		t.Fatal(err)
	}
	if navs != 0 {
		t.Errorf("report has %d navigation bars", navs)
	}
	shot, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	save(t, dir, "group-report.png", shot)
	pdf, err := chromedp.Run(ctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("print to PDF gave %q", pdf[:min(len(pdf), 16)])
	}
	// The page breaks before "Top risks" and "Exceptions" give at least
	// three pages.
	if n := len(pdfPageRE.FindAll(pdf, -1)); n < 3 {
		t.Errorf("report printed on %d pages, want at least 3", n)
	}
	save(t, dir, "group-report.pdf", pdf)
	t.Logf("screenshots and PDF in %s", dir)
}

// pdfPageRE finds the page objects of a PDF (not the /Pages tree).
var pdfPageRE = regexp.MustCompile(`/Type\s*/Page\b[^s]`)

func save(t *testing.T, dir, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}
