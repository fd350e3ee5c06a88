package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigil-project/vigil/internal/inventory"
)

// TestSAPPagesInBrowser: an admin switches SAP on, adds a database login
// through the settings form in headless Chromium (typed user and password,
// which never come back in the page), and reads the systems page, where
// each system lists its sources with the reason for the missing ones.
// Screenshots of both pages are saved.
func TestSAPPagesInBrowser(t *testing.T) {
	actx := browser(t, 1280, 900)
	e := newEnv(t)
	dir := artifactDir(t)
	bg := context.Background()
	h := e.host("sapprd01")
	sys := inventory.SAPSystem{SID: "PRD",
		Instances: []inventory.SAPInstance{{Name: "D00", Number: "00", Type: "abap", Host: "sapprd01", Registered: true}},
		Kernel:    &inventory.SAPKernel{Release: "753", PatchLevel: "1100", Source: "disp+work -version"},
		Database:  &inventory.SAPDatabase{Product: "HANA", Type: "hdb", Version: "2.00.059.04", Release: "2.00", Level: "059"},
		Components: []inventory.SAPComponent{{Name: "SAP_BASIS", Release: "750", SPLevel: "0025", Source: "CVERS (hdbsql)"},
			{Name: "KRNL64UC", Release: "7.53", PatchLevel: "1100", Source: "disp+work -version"}},
		Transport: &inventory.SAPTransport{QueueDepth: 2, FailedImports: 1},
		Sources: []inventory.SAPSource{{Name: "profiles", Available: true, Detail: "/sapmnt/PRD/profile"},
			{Name: "components", Available: false, Detail: "sapcontrol answered FAIL: Permission denied"},
			{Name: "component table", Available: true, Detail: "10 components from SAPHANADB.CVERS (schema dbs/hdb/schema) via hdbsql as VIGIL_RO"}}}
	if err := e.svc.Store.ReplaceSAPSystems(bg, e.ws.ID, h.ID, []inventory.SAPSystem{sys}, e.svc.Now()); err != nil {
		t.Fatal(err)
	}
	srv := webServer(t, e)

	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) { t.Helper(); do(t, ctx, what, steps...) }
	html := func() string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main")))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	const secret = "Hana-RO-Browser-1"
	logIn(t, ctx, srv.URL, "admin", adminPassword)
	run("switch SAP on",
		chromedp.Navigate(srv.URL+"/settings/sap"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="sap_in_scope"]`)),
		chromedp.Click(chromedp.CSS(`input[name="sap_in_scope"]`)),
		chromedp.Submit(chromedp.CSS(`input[name="sap_in_scope"]`)),
		// The saved page, not the one the form was on.
		chromedp.WaitVisible(chromedp.CSS(`p.alert-ok`)),
	)
	run("add a database login",
		chromedp.SendKeys(chromedp.CSS(`#sid`), "PRD"),
		chromedp.SendKeys(chromedp.CSS(`#db_username`), "VIGIL_RO"),
		chromedp.SendKeys(chromedp.CSS(`#db_password`), secret),
		chromedp.SendKeys(chromedp.CSS(`#schema`), "SAPHANADB"),
		chromedp.Submit(chromedp.CSS(`#schema`)),
		chromedp.WaitVisible(chromedp.CSS(`#sap-db-logins`)),
		chromedp.WaitVisible(chromedp.CSS(`p.alert-ok`)),
	)
	page := html()
	if !strings.Contains(page, "sap-db-prd") || !strings.Contains(page, "SAPHANADB") || strings.Contains(page, secret) {
		t.Errorf("settings page after the login was added: secret shown or login missing")
	}
	screenshot(t, ctx, dir, "sap-settings.png")

	run("systems page",
		chromedp.Navigate(srv.URL+"/sap/systems"),
		chromedp.WaitVisible(chromedp.CSS(`main table`)),
	)
	page = html()
	for _, want := range []string{"PRD", "753 patch 1100", "component table", "via hdbsql as VIGIL_RO", "Permission denied", "2 queued, 1 failed"} {
		if !strings.Contains(page, want) {
			t.Errorf("systems page lacks %q", want)
		}
	}
	screenshot(t, ctx, dir, "sap-systems.png")
}
