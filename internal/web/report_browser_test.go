package web

import (
	"bytes"
	"context"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestRiskPagesInBrowser logs into the web app in headless Chromium, opens
// the worklist and the group report, checks what a person would see, and
// saves a screenshot of each and the report printed to PDF.
func TestRiskPagesInBrowser(t *testing.T) {
	actx := browser(t, 1400, 1000)
	e := newEnv(t)
	fx := newRiskFixture(t, e)
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	dir := artifactDir(t)

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
	screenshot(t, ctx, dir, "worklist.png")

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
	screenshot(t, ctx, dir, "group-report.png")
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
