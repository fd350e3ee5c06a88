package agent

import (
	"context"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

// The SAP probe runs only when the config asks for it. This machine has
// no /usr/sap: discovery succeeds with no systems, which tells the server
// the host has none (rather than "not looked").
func TestScanHostSAPOnlyWhenAsked(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the local probes read /proc")
	}
	a := newTestAgent(t, http.NotFoundHandler())
	a.cfg.HostTimeout, a.cfg.ProbeTimeout = time.Minute, 30*time.Second
	sapProbes := func(rep *inventory.HostReport) int {
		n := 0
		for _, p := range rep.Probes {
			if p.Name == inventory.SAPProbeName {
				n++
			}
		}
		return n
	}
	rep := a.ScanHost(context.Background(), inventory.HostSpec{ID: 7, Name: "self", Transport: inventory.TransportLocal})
	if rep.Status != inventory.StatusOK || sapProbes(rep) != 0 || rep.HasSAPScan() {
		t.Fatalf("without SAP: status %s (%s), %d sap probes", rep.Status, rep.Error, sapProbes(rep))
	}
	rep = a.ScanHost(context.Background(), inventory.HostSpec{ID: 7, Name: "self", Transport: inventory.TransportLocal, SAP: true})
	if rep.Status != inventory.StatusOK || sapProbes(rep) != 1 || !rep.HasSAPScan() || rep.SAP == nil || len(rep.SAP) != 0 {
		t.Fatalf("with SAP: status %s, probes %+v, systems %+v", rep.Status, rep.Probes, rep.SAP)
	}
	if err := rep.Validate(); err != nil {
		t.Fatal(err)
	}
}
