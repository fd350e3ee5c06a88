package agent

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/collect"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport"
	"github.com/vigil-project/vigil/internal/transport/winrmx/wsmantest"
	"github.com/vigil-project/vigil/internal/vaultref"
)

// windowsHost serves one recorded Windows host over WS-Management: each
// encoded PowerShell probe is answered with testdata/windows/<host>/<probe>.json
// of package collect.
func windowsHost(t testing.TB, host string) (*wsmantest.Server, *httptest.Server) {
	t.Helper()
	dir := filepath.Join("..", "collect", "testdata", "windows", host)
	s := &wsmantest.Server{
		Users: map[string]string{"svc-vigil": "Corr3ct-Horse"},
		NTLM:  true,
		Exec: func(_ context.Context, cmd string) wsmantest.Output {
			if script, ok := transport.DecodePowerShell(cmd); ok && strings.Contains(script, "$PSVersionTable") {
				return wsmantest.Output{Stdout: []byte("5.1.20348.2849\r\n")}
			}
			name, ok := collect.WindowsProbeOf(cmd)
			if !ok {
				return wsmantest.Output{Stderr: []byte("'" + cmd + "' is not recognized as an internal or external command"), ExitCode: 1}
			}
			out, err := os.ReadFile(filepath.Join(dir, name+".json"))
			if err != nil {
				return wsmantest.Output{Stderr: []byte("#< CLIXML\n<Objs><S S=\"Error\">Access is denied._x000D__x000A_</S></Objs>"), ExitCode: 1}
			}
			return wsmantest.Output{Stdout: out}
		},
	}
	srv := wsmantest.Start(s, true)
	t.Cleanup(srv.Close)
	return s, srv
}

func winSpec(t testing.TB, srv *httptest.Server, password string) inventory.HostSpec {
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	return inventory.HostSpec{
		ID: 7, Name: "web01", Address: host, Port: p, Transport: inventory.TransportWinRM,
		Credential: &inventory.Credential{Username: `CORP\svc-vigil`, Password: password},
		WinRM:      &inventory.WinRMOptions{HTTPS: true, CAPEM: string(ca)},
		Items: []inventory.ItemRequest{
			{Kind: inventory.ItemProbe, Name: "win_firewall"},
			{Kind: inventory.ItemProbe, Name: "sshd"},
			{Kind: inventory.ItemProbe, Name: "win_registry"},
			{Kind: inventory.ItemFile, Name: "/etc/passwd"},
			{Kind: inventory.ItemProbe, Name: "win_cmd"},
		},
	}
}

// apiServer is the agent's server side: it hands out one config and keeps
// the reports pushed to it.
type apiServer struct {
	cfg     inventory.AgentConfig
	mu      sync.Mutex
	reports []inventory.HostReport
}

func (a *apiServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/api/v1/agent/config":
		w.Header().Set("ETag", `"1"`)
		json.NewEncoder(w).Encode(a.cfg)
	case "/api/v1/agent/reports":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		var b inventory.Batch
		if err := json.NewDecoder(zr).Decode(&b); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		var reply inventory.BatchReply
		a.mu.Lock()
		for _, rep := range b.Reports {
			status := inventory.ResultAccepted
			if err := rep.Validate(); err != nil {
				status = inventory.ResultRejected
			}
			a.reports = append(a.reports, rep)
			reply.Results = append(reply.Results, inventory.BatchResult{ReportID: rep.ReportID, Status: status})
		}
		a.mu.Unlock()
		json.NewEncoder(w).Encode(reply)
	default:
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}
}

// TestWinRMEndToEnd runs the agent against a WS-Management server that
// replays a recorded Windows Server 2022: it pulls its config, logs in with
// NTLM over HTTPS (verified by the server), scans, and pushes a report
// carrying the OS, the software, the hotfixes and the compliance items;
// a wrong password gives a report with error_kind auth.
func TestWinRMEndToEnd(t *testing.T) {
	wsman, srv := windowsHost(t, "server2022")
	good := winSpec(t, srv, "Corr3ct-Horse")
	bad := winSpec(t, srv, "Wr0ng-Passw0rd")
	bad.ID, bad.Name = 8, "web02"
	api := &apiServer{cfg: inventory.AgentConfig{SchemaVersion: 1, AgentID: 1, WorkspaceID: 1, Hosts: []inventory.HostSpec{good, bad}}}
	ts := httptest.NewServer(api)
	defer ts.Close()
	cfg := &Config{APIURL: ts.URL, APIKey: "vga_test", SpoolDir: t.TempDir(), Concurrency: 2,
		HostTimeout: 30 * time.Second, ProbeTimeout: 10 * time.Second, ConnectTimeout: 5 * time.Second}
	a, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	stats, err := a.ScanOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if stats.OK != 1 || stats.Failed != 1 {
		t.Fatalf("stats %+v", stats)
	}
	byHost := map[int64]inventory.HostReport{}
	for _, r := range api.reports {
		byHost[r.HostID] = r
	}
	if len(api.reports) != 2 {
		t.Fatalf("%d reports pushed", len(api.reports))
	}

	rep := byHost[7]
	if rep.Status != inventory.StatusOK {
		t.Fatalf("scan failed: %s %s", rep.ErrorKind, rep.Error)
	}
	if err := rep.Validate(); err != nil {
		t.Fatal(err)
	}
	os := rep.System.OS
	if os.Family != "windows" || os.ID != "windows" || os.VersionID != "10.0.20348" || os.Name != "Microsoft Windows Server 2022 Datacenter" {
		t.Errorf("os %+v", os)
	}
	if len(rep.Packages) != 11 || rep.Packages[0].Ecosystem != inventory.EcosystemWindows {
		t.Errorf("packages %+v", rep.Packages)
	}
	w := rep.System.Windows
	if w == nil || len(w.Hotfixes) != 4 || w.Hotfixes[0].KB != "KB5068787" || w.UBR != 4405 || w.Defender == nil || !w.Defender.RealTimeProtection {
		t.Fatalf("windows %+v", w)
	}
	for _, p := range rep.Probes {
		if p.Error != "" {
			t.Errorf("probe %s: %s", p.Name, p.Error)
		}
	}
	items := map[string]inventory.ItemResult{}
	for _, it := range rep.Items {
		items[it.Key()] = it
	}
	var fw []inventory.FirewallProf
	if err := json.Unmarshal(items["probe:win_firewall"].Value, &fw); err != nil || len(fw) != 3 || !fw[2].Enabled {
		t.Errorf("win_firewall item %s: %v", items["probe:win_firewall"].Value, err)
	}
	if !strings.Contains(string(items["probe:win_registry"].Value), `LmCompatibilityLevel":5`) {
		t.Errorf("win_registry item %s", items["probe:win_registry"].Value)
	}
	if items["probe:sshd"].Error != ErrNotWindowsItem || items["file:/etc/passwd"].Error != ErrNotWindowsItem || items["probe:win_cmd"].Error != collect.ErrNotInCatalogue {
		t.Errorf("items outside the Windows catalogue: %+v", rep.Items)
	}

	st := wsman.Stats()
	runs := map[string]int{}
	for _, c := range st.CommandLines {
		name, ok := collect.WindowsProbeOf(c)
		if !ok {
			t.Errorf("a command that is not a catalogue probe reached the host: %.80s", c)
		}
		runs[name]++
	}
	if runs["win_firewall"] != 1 || runs["win_registry"] != 1 {
		t.Errorf("each probe runs once per scan, items included: %v", runs)
	}
	if st.ShellsCreated != 1 || st.ShellsDeleted != 1 || st.NTLMLogins != 1 {
		t.Errorf("one shell, one NTLM login: %+v", st)
	}

	fail := byHost[8]
	if fail.Status != inventory.StatusError || fail.ErrorKind != inventory.ErrKindAuth || strings.Contains(fail.Error, "Wr0ng-Passw0rd") {
		t.Errorf("wrong password: %+v", fail)
	}
	if err := fail.Validate(); err != nil {
		t.Fatal(err)
	}

	res := a.CheckHosts(context.Background(), []inventory.HostSpec{good, bad})
	if !res[0].OK || res[0].Detail != "login ok (ntlm over https), PowerShell 5.1.20348.2849" || res[1].OK || !strings.Contains(res[1].Detail, "login refused") {
		t.Errorf("check: %+v", res)
	}
}

// A WinRM password may be a Vault reference, resolved at scan time like
// SSH's; an unresolvable one fails the host with error_kind credential.
func TestWinRMPasswordFromVault(t *testing.T) {
	var reads atomic.Int64
	addr := kvV1Vault(t, map[string]map[string]string{"hosts/win": {"password": "Corr3ct-Horse"}}, &reads)
	_, srv := windowsHost(t, "server2019-de")
	a := newTestAgent(t, http.NotFoundHandler())
	a.cfg.ConnectTimeout, a.cfg.HostTimeout, a.cfg.ProbeTimeout, a.cfg.Concurrency = 5*time.Second, 30*time.Second, 10*time.Second, 2
	tokenFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokenFile, []byte("hvs.agent-test\n"), 0o600)
	a.cfg.Vault = &vaultref.Config{Address: addr, KVVersion: 1, Auth: vaultref.Auth{Method: vaultref.MethodToken, TokenFile: tokenFile}}
	if err := a.cfg.Vault.Validate(); err != nil {
		t.Fatal(err)
	}
	h := winSpec(t, srv, "vault:kv/hosts/win#password")
	rep := a.ScanHost(context.Background(), h)
	if rep.Status != inventory.StatusOK || rep.System.OS.VersionID != "10.0.17763" || len(rep.System.Windows.Hotfixes) != 3 {
		t.Fatalf("scan with a Vault password: %s %s %+v", rep.ErrorKind, rep.Error, rep.System.OS)
	}
	h.Credential.Password = "vault:kv/hosts/gone#password"
	rep = a.ScanHost(context.Background(), h)
	if rep.Status != inventory.StatusError || rep.ErrorKind != inventory.ErrKindCredential {
		t.Fatalf("unresolvable reference: %s %s", rep.ErrorKind, rep.Error)
	}
	if h.Credential.Password != "vault:kv/hosts/gone#password" {
		t.Error("the agent's copy of the config was changed")
	}
}

// BenchmarkWinRMScanHost scans the recorded Server 2022 once per iteration
// over NTLM and HTTPS against the in-process WS-Management server: login,
// 15 probes and 11 items, each a Command/Receive/Signal exchange.
func BenchmarkWinRMScanHost(b *testing.B) {
	_, srv := windowsHost(b, "server2022")
	cfg := &Config{APIURL: "http://127.0.0.1:1", APIKey: "vga_test", SpoolDir: b.TempDir(), Concurrency: 1,
		HostTimeout: 30 * time.Second, ProbeTimeout: 10 * time.Second, ConnectTimeout: 5 * time.Second}
	a, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	h := winSpec(b, srv, "Corr3ct-Horse")
	for _, name := range []string{"win_defender", "win_reboot_pending", "win_services", "win_admins", "win_accounts", "win_password_policy", "win_smb", "win_rdp", "win_auto_updates"} {
		h.Items = append(h.Items, inventory.ItemRequest{Kind: inventory.ItemProbe, Name: name})
	}
	b.ResetTimer()
	for b.Loop() {
		if rep := a.ScanHost(context.Background(), h); rep.Status != inventory.StatusOK {
			b.Fatal(rep.Error)
		}
	}
}
