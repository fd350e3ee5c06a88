package agent

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/collect"
	"github.com/vigil-project/vigil/internal/inventory"
)

func TestConfigAllowedFiles(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.yaml")
	os.WriteFile(p, []byte("api_url: https://v.example\napi_key: vga_x\nallowed_files:\n  - /etc/myapp/app.conf\n  - /srv/conf/x.ini\n"), 0o600)
	c, err := LoadConfig(p)
	if err != nil || !reflect.DeepEqual(c.AllowedFiles, []string{"/etc/myapp/app.conf", "/srv/conf/x.ini"}) {
		t.Fatalf("file: %v %v", c, err)
	}
	t.Setenv("VIGIL_ALLOWED_FILES", " /etc/a.conf, /etc/b.conf ,,")
	c, err = LoadConfig(p)
	if err != nil || !reflect.DeepEqual(c.AllowedFiles, []string{"/etc/a.conf", "/etc/b.conf"}) {
		t.Fatalf("env: %v %v", c, err)
	}
	for _, bad := range []string{"etc/a.conf", "/etc/../shadow", "/etc/a.conf/", "/etc/a;b"} {
		t.Setenv("VIGIL_ALLOWED_FILES", bad)
		if _, err := LoadConfig(p); err == nil || !strings.Contains(err.Error(), "allowed_files") {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}

// A local scan with item requests: catalogue items come back collected,
// the rest refused, in request order, and the report still validates.
func TestScanHostCollectsItems(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the local probes read /proc")
	}
	a := newTestAgent(t, http.NotFoundHandler())
	a.cfg.HostTimeout, a.cfg.ProbeTimeout = time.Minute, 30*time.Second
	a.cfg.AllowedFiles = []string{"/etc/hosts", "/etc/shadow;id"}
	items := []inventory.ItemRequest{
		{Kind: inventory.ItemProbe, Name: "sysctl"},
		{Kind: inventory.ItemProbe, Name: "cat /etc/shadow"},
		{Kind: inventory.ItemFile, Name: "/etc/shadow"},
		{Kind: inventory.ItemFile, Name: "/etc/shadow;id"},
		{Kind: inventory.ItemFileMeta, Name: "/etc/../etc/shadow"},
		{Kind: inventory.ItemFileMeta, Name: "/etc/passwd"},
		{Kind: inventory.ItemFile, Name: "/etc/hosts"},
	}
	rep := a.ScanHost(context.Background(), inventory.HostSpec{ID: 7, Name: "self", Transport: inventory.TransportLocal, Items: items})
	if rep.Status != inventory.StatusOK {
		t.Fatalf("scan failed: %s", rep.Error)
	}
	if err := rep.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(rep.Items) != len(items) {
		t.Fatalf("%d items for %d requests", len(rep.Items), len(items))
	}
	for i, want := range []string{"", collect.ErrNotInCatalogue, collect.ErrNotAllowlisted, "is not accepted", "not a clean path", "", ""} {
		got := rep.Items[i]
		if got.Key() != items[i].Key() || want == "" && got.Error != "" || want != "" && (!strings.Contains(got.Error, want) || got.Value != nil) {
			t.Errorf("%s: %+v", items[i].Key(), got)
		}
	}
	var meta struct {
		Exists bool   `json:"exists"`
		Owner  string `json:"owner"`
	}
	if err := json.Unmarshal(rep.Items[5].Value, &meta); err != nil || !meta.Exists || meta.Owner == "" {
		t.Errorf("file_meta /etc/passwd: %s %v", rep.Items[5].Value, err)
	}

	// No items asked, none reported.
	rep = a.ScanHost(context.Background(), inventory.HostSpec{ID: 7, Name: "self", Transport: inventory.TransportLocal})
	if rep.Items != nil {
		t.Errorf("items without requests: %+v", rep.Items)
	}
}
