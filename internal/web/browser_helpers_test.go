package web

// Helpers of the browser tests (headless Chromium through chromedp).

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/vigil-project/vigil/internal/server"
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

// browser starts headless Chromium for one test (skipped without it) and
// returns its allocator: each chromedp.NewContext on it is a separate
// browser context (its own cookies), closed with the test.
func browser(t *testing.T, width, height int) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	return actx
}

// screenshot saves a full-page screenshot of ctx's page as dir/name.
func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	save(t, dir, name, b)
}

func save(t *testing.T, dir, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// webServer serves e's whole server (the API too, for forced requests) to
// the browser, closed with the test.
func webServer(t *testing.T, e *env) *httptest.Server {
	srv := httptest.NewServer(server.New(e.svc, slog.New(slog.NewTextHandler(io.Discard, nil)), server.Options{Web: e.h}))
	t.Cleanup(srv.Close)
	return srv
}

// do runs browser steps; a failure ends the test, naming what was done.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// logIn signs user in through the login form at base.
func logIn(t *testing.T, ctx context.Context, base, user, pw string) {
	t.Helper()
	do(t, ctx, "log in as "+user,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="login"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="login"]`), user),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), pw),
		chromedp.Submit(chromedp.CSS(`input[name="password"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.user-name`)),
	)
}
