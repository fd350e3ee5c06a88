package agent

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/collect"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport"
	"github.com/vigil-project/vigil/internal/transport/winrmx/wsmantest"
)

// TestWinRMSAPComponentTable scans a Windows SAP host (SQL Server) over
// WinRM with a database login: discovery finds PRD, the agent reads its
// CVERS with sqlcmd, and the password reaches the command only on stdin
// (WS-Management Send), never in a command line; a wrong password leaves
// the scan ok and the reason on the system.
func TestWinRMSAPComponentTable(t *testing.T) {
	const dbPass = "Sql-Ro-Pa55"
	s, srv := windowsHost(t, "server2022")
	probes := s.Exec
	discovery, err := os.ReadFile(filepath.Join("..", "collect", "testdata", "sap", "outputs", "discovery_windows.txt"))
	if err != nil {
		t.Fatal(err)
	}
	cvers, err := os.ReadFile(filepath.Join("..", "collect", "testdata", "sap", "outputs", "cvers_sqlcmd.txt"))
	if err != nil {
		t.Fatal(err)
	}
	s.ExecInput = func(ctx context.Context, cmd string, stdin io.Reader) wsmantest.Output {
		if cmd == collect.SAPWindowsCommand() {
			return wsmantest.Output{Stdout: discovery}
		}
		script, ok := transport.DecodePowerShell(cmd)
		if !ok || !strings.Contains(script, "# vigil:probe sap_db") {
			return probes(ctx, cmd)
		}
		// sqlcmd as the script starts it: the password, then statements.
		in := bufio.NewReader(stdin)
		pw, _ := in.ReadString('\n')
		sql, _ := io.ReadAll(in)
		if strings.TrimRight(pw, "\r\n") != dbPass {
			return wsmantest.Output{Stdout: []byte("Sqlcmd: Error: Microsoft ODBC Driver 17 for SQL Server : Login failed for user 'vigil_ro'..\r\n"), ExitCode: 1}
		}
		switch {
		case strings.Contains(string(sql), "FROM sys.tables WHERE name = 'CVERS'"):
			return wsmantest.Output{Stdout: []byte("prd\r\n")}
		case strings.Contains(string(sql), "FROM [prd].[CVERS] ORDER BY COMPONENT"):
			return wsmantest.Output{Stdout: cvers}
		}
		return wsmantest.Output{Stdout: []byte("Msg 102, Level 15, State 1, Server SAPWIN01, Line 1\r\nIncorrect syntax.\r\n"), ExitCode: 1}
	}
	a := newTestAgent(t, http.NotFoundHandler())
	a.cfg.ConnectTimeout, a.cfg.HostTimeout, a.cfg.ProbeTimeout = 5*time.Second, 30*time.Second, 10*time.Second
	h := winSpec(t, srv, "Corr3ct-Horse")
	h.Items = nil
	h.SAP = true
	h.SAPDB = []inventory.SAPDBLogin{{Credential: &inventory.Credential{Username: "vigil_ro", Password: dbPass}}}

	rep := a.ScanHost(context.Background(), h)
	if rep.Status != inventory.StatusOK || len(rep.SAP) != 1 || rep.SAP[0].Database == nil || rep.SAP[0].Database.Type != "mss" {
		t.Fatalf("scan: %s %s %+v", rep.Status, rep.Error, rep.SAP)
	}
	src := func(sys inventory.SAPSystem) inventory.SAPSource {
		for _, x := range sys.Sources {
			if x.Name == collect.SAPSourceComponentTable {
				return x
			}
		}
		t.Fatalf("no component table source: %+v", sys.Sources)
		return inventory.SAPSource{}
	}
	if got := src(rep.SAP[0]); !got.Available || !strings.Contains(got.Detail, "6 components from prd.CVERS (schema found in the catalogue) via sqlcmd as vigil_ro") {
		t.Fatalf("component table source %+v", got)
	}
	n := 0
	for _, c := range rep.SAP[0].Components {
		if c.Source == "CVERS (sqlcmd)" {
			n++
		}
	}
	if n != 6 {
		t.Errorf("%d CVERS components: %+v", n, rep.SAP[0].Components)
	}
	st := s.Stats()
	for _, cl := range st.CommandLines {
		if script, ok := transport.DecodePowerShell(cl); strings.Contains(cl, dbPass) || ok && strings.Contains(script, dbPass) {
			t.Errorf("the password is in a command line")
		}
	}
	if st.Sends < 2 {
		t.Errorf("%d Send requests, want the login sent on stdin twice (schema, table)", st.Sends)
	}

	h.SAPDB[0].Credential = &inventory.Credential{Username: "vigil_ro", Password: "wrong"}
	rep = a.ScanHost(context.Background(), h)
	if got := src(rep.SAP[0]); rep.Status != inventory.StatusOK || got.Available || !strings.Contains(got.Detail, "Login failed for user 'vigil_ro'") {
		t.Fatalf("wrong password: %s %+v", rep.Status, got)
	}
}
