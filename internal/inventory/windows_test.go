package inventory

import (
	"strings"
	"testing"
	"time"
)

func TestValidateWindows(t *testing.T) {
	base := func() *HostReport {
		now := time.Now()
		return &HostReport{SchemaVersion: SchemaVersion, ReportID: "r1", HostID: 1, StartedAt: now, FinishedAt: now, Status: StatusOK,
			Packages: []Package{{Name: "7-Zip 24.09 (x64)", Version: "24.09", Ecosystem: EcosystemWindows}},
			System:   System{Windows: &Windows{Hotfixes: []Hotfix{{KB: "KB5068787"}}}}}
	}
	if err := base().Validate(); err != nil {
		t.Fatal(err)
	}
	r := base()
	r.System.Windows = nil
	if err := r.Validate(); err != nil {
		t.Fatalf("no Windows part: %v", err)
	}
	r = base()
	r.System.Windows.Services = make([]WinService, MaxWindowsList+1)
	if err := r.Validate(); err == nil || !strings.Contains(err.Error(), "system.windows.services") {
		t.Fatalf("too many services: %v", err)
	}
	r = base()
	r.System.Windows.Hotfixes = append(r.System.Windows.Hotfixes, Hotfix{})
	if err := r.Validate(); err == nil || err.Error() != "system.windows.hotfixes[1].kb: required" {
		t.Fatalf("hotfix without KB: %v", err)
	}
}
