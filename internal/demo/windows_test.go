package demo

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/collect"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport/winrmx"
)

// Every embedded Windows host serves a complete scan over HTTPS and NTLM,
// with the listener's certificate pinned as the CA, as 'vigil demo' sets it
// up; a wrong password is refused.
func TestWindowsReplay(t *testing.T) {
	names := WindowsRecordings()
	if len(names) == 0 {
		t.Fatal("no demo Windows hosts")
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			wr, err := StartWindowsReplay(name, "vigil-scan", "demo-pw")
			if err != nil {
				t.Fatal(err)
			}
			defer wr.Close()
			spec := inventory.HostSpec{ID: 1, Address: "127.0.0.1", Port: wr.Port, Transport: inventory.TransportWinRM,
				Credential: &inventory.Credential{Username: wr.User, Password: "demo-pw"}, WinRM: &inventory.WinRMOptions{HTTPS: true, CAPEM: wr.CAPEM}}
			ctx := context.Background()
			sess, err := winrmx.Dial(ctx, spec, winrmx.Options{Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer sess.Close()
			rep := &inventory.HostReport{}
			if err := collect.ScanWindows(ctx, sess, rep, time.Now()); err != nil {
				t.Fatal(err)
			}
			for _, p := range rep.Probes {
				if p.Error != "" {
					t.Errorf("probe %s: %s", p.Name, p.Error)
				}
			}
			if rep.System.OS.Family != "windows" || len(rep.Packages) == 0 || len(rep.System.Windows.Hotfixes) == 0 {
				t.Errorf("scan %+v", rep.System.OS)
			}
			spec.Credential.Password = "wrong"
			if _, err := winrmx.Dial(ctx, spec, winrmx.Options{Timeout: 5 * time.Second}); err == nil {
				t.Error("wrong password accepted")
			}
		})
	}
}
