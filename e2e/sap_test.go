package e2e

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	gssh "github.com/gliderlabs/ssh"
	"golang.org/x/crypto/ssh"

	"github.com/vigil-project/vigil/internal/collect"
)

// sapHost is an SSH host emulating an SAP application server: commands
// run with sh on this machine, and the SAP discovery command runs against
// the constructed file tree in internal/collect/testdata/sap/root (an ABAP
// system PRD with D00 and ASCS01, HANA HDB00, a transport directory) with
// /usr/sap, /sapmnt, /sybase and /oracle moved under it. Nothing is
// written anywhere: the probes only read.
type sapHost struct {
	port       int
	sapRuns    atomic.Int64
	dbRuns     atomic.Int64
	otherExecs atomic.Int64
	mu         sync.Mutex
	commands   []string // every command line the host was asked to run
}

func startSAPHost(t *testing.T, user, password string) *sapHost {
	t.Helper()
	root, err := filepath.Abs("../internal/collect/testdata/sap/root")
	if err != nil {
		t.Fatal(err)
	}
	rooter := strings.NewReplacer("/usr/sap", root+"/usr/sap", "/sapmnt/", root+"/sapmnt/", "/sybase/", root+"/sybase/", "/oracle/", root+"/oracle/",
		"/hana/shared/", root+"/hana/shared/")
	rooted := rooter.Replace(collect.SAPCommand())
	h := &sapHost{}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	srv := &gssh.Server{
		Handler: func(s gssh.Session) {
			cmd := s.RawCommand()
			h.mu.Lock()
			h.commands = append(h.commands, cmd)
			h.mu.Unlock()
			if cmd == collect.SAPCommand() {
				h.sapRuns.Add(1)
				cmd = rooted
			} else if strings.Contains(cmd, "hdbclient/hdbsql") {
				// The component-table read: the same client lookup, under the tree.
				h.dbRuns.Add(1)
				cmd = rooter.Replace(cmd)
			} else {
				h.otherExecs.Add(1)
			}
			c := exec.Command("sh", "-c", cmd)
			c.Stdin, c.Stdout, c.Stderr = s, s, s.Stderr()
			code := 0
			if err := c.Run(); err != nil {
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					code = ee.ExitCode()
				} else {
					code = 127
				}
			}
			_ = s.Exit(code)
		},
		PasswordHandler: func(ctx gssh.Context, pw string) bool {
			return subtle.ConstantTimeCompare([]byte(ctx.User()), []byte(user)) == 1 &&
				subtle.ConstantTimeCompare([]byte(pw), []byte(password)) == 1
		},
	}
	srv.AddHostKey(signer)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	h.port = ln.Addr().(*net.TCPAddr).Port
	return h
}

// TestSAPEndToEnd: a workspace with SAP in scope, an SAP application
// server over SSH, the sample SAP Security Notes catalogue imported with
// the CLI → the agent's report carries the SAP systems and the server
// matches the notes: confirmed matches, manual reviews with reasons.
func TestSAPEndToEnd(t *testing.T) {
	host := startSAPHost(t, "sapscan", "sap-e2e-pass")
	srv := startServer(t, "")
	agentKey := srv.admin(t, "agent-key", "--name", "sap-agent")
	token := srv.admin(t, "api-token", "--name", "sap")

	var scope map[string]bool
	if code := srv.api(t, token, "PUT", "/api/v1/sap/scope", map[string]bool{"sap_in_scope": true}, &scope); code != 200 || !scope["sap_in_scope"] {
		t.Fatalf("set SAP scope: %d %v", code, scope)
	}
	var out map[string]any
	if code := srv.api(t, token, "POST", "/api/v1/hosts", map[string]any{"name": "sapprd01", "address": "127.0.0.1", "port": host.port,
		"transport": "ssh", "username": "sapscan", "password": "sap-e2e-pass"}, &out); code != 201 {
		t.Fatalf("add host: %d %v", code, out)
	}
	args := append([]string{"feeds", "import", "--sap", "../internal/vuln/sapnotes/testdata/notes_catalog.json.gz"}, srv.dbArgs()...)
	if b, err := exec.Command(vigilBin, args...).CombinedOutput(); err != nil || !strings.Contains(string(b), "130 records, 130 changed, 0 skipped") {
		t.Fatalf("feeds import --sap: %v\n%s", err, b)
	}

	// A read-only database login for PRD's component table; its password
	// must reach hdbsql on stdin only.
	const dbPass = "cvers-e2e-pass"
	var cred struct {
		ID int64 `json:"id"`
	}
	if code := srv.api(t, token, "POST", "/api/v1/credentials", map[string]any{"name": "hana-ro", "username": "VIGIL_RO", "password": dbPass}, &cred); code != 201 {
		t.Fatalf("create credential: %d", code)
	}
	var login struct {
		ID int64 `json:"id"`
	}
	if code := srv.api(t, token, "POST", "/api/v1/sap/db-logins", map[string]any{"sid": "PRD", "credential_id": cred.ID}, &login); code != 201 {
		t.Fatalf("create SAP database login: %d", code)
	}

	spool := filepath.Join(t.TempDir(), "spool")
	cfgFile := filepath.Join(t.TempDir(), "agent.yaml")
	cfg := fmt.Sprintf("api_url: %s\napi_key: %s\nspool_dir: %s\nconnect_timeout: 5s\n", srv.url, agentKey, spool)
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if o := runAgent(t, cfgFile); !strings.Contains(o, "1 ok") {
		t.Fatalf("agent output:\n%s", o)
	}
	if host.sapRuns.Load() != 1 {
		t.Fatalf("SAP discovery ran %d times, want 1", host.sapRuns.Load())
	}

	type systemJSON struct {
		SID      string `json:"sid"`
		HostName string `json:"host_name"`
		Kernel   *struct {
			Release    string `json:"release"`
			PatchLevel string `json:"patch_level"`
		} `json:"kernel"`
		Components []struct {
			Name    string `json:"name"`
			Release string `json:"release"`
			SPLevel string `json:"sp_level"`
			Source  string `json:"source"`
		} `json:"components"`
		Transport *struct {
			QueueDepth    int `json:"queue_depth"`
			FailedImports int `json:"failed_imports"`
		} `json:"transport"`
		Sources []struct {
			Name      string `json:"name"`
			Available bool   `json:"available"`
			Detail    string `json:"detail"`
		} `json:"sources"`
	}
	prdSystem := func() systemJSON {
		t.Helper()
		var systems []systemJSON
		if code := srv.api(t, token, "GET", "/api/v1/sap/systems", nil, &systems); code != 200 || len(systems) != 2 {
			t.Fatalf("SAP systems: %d %+v", code, systems)
		}
		return systems[1]
	}
	componentTable := func(s systemJSON) (bool, string) {
		for _, src := range s.Sources {
			if src.Name == collect.SAPSourceComponentTable {
				return src.Available, src.Detail
			}
		}
		t.Fatalf("no component table source in %+v", s.Sources)
		return false, ""
	}
	prd := prdSystem()
	if prd.SID != "PRD" || prd.HostName != "sapprd01" || prd.Kernel == nil || prd.Kernel.Release != "753" || prd.Kernel.PatchLevel != "1100" ||
		prd.Transport == nil || prd.Transport.QueueDepth != 2 || prd.Transport.FailedImports != 1 || len(prd.Sources) != 7 {
		t.Fatalf("PRD = %+v", prd)
	}
	// CVERS was read through the emulated hdbsql, and its rows replaced
	// sapcontrol's; the password never appeared on a command line.
	if ok, detail := componentTable(prd); !ok || !strings.Contains(detail, "10 components from SAPHANADB.CVERS (schema dbs/hdb/schema) via hdbsql as VIGIL_RO") {
		t.Fatalf("component table source: %v %q", ok, detail)
	}
	cvers := 0
	for _, c := range prd.Components {
		if c.Source == "CVERS (hdbsql)" {
			cvers++
		} else if strings.HasPrefix(c.Source, "sapcontrol ABAPGetComponentList") {
			t.Errorf("sapcontrol row kept next to the table's: %+v", c)
		}
	}
	if cvers != 10 || host.dbRuns.Load() != 1 {
		t.Fatalf("%d CVERS components, %d hdbsql runs", cvers, host.dbRuns.Load())
	}
	host.mu.Lock()
	for _, c := range host.commands {
		if strings.Contains(c, dbPass) {
			t.Errorf("database password on a command line: %q", c)
		}
	}
	host.mu.Unlock()

	type note struct {
		Number   string   `json:"number"`
		Status   string   `json:"status"`
		Systems  []string `json:"systems"`
		Findings []struct {
			Verdict string `json:"verdict"`
			Reason  string `json:"reason"`
		} `json:"findings"`
	}
	notes := func(status string) map[string]note {
		var ns []note
		if code := srv.api(t, token, "GET", "/api/v1/sap/notes?status="+status, nil, &ns); code != 200 {
			t.Fatalf("SAP notes %s: %d", status, code)
		}
		m := map[string]note{}
		for _, n := range ns {
			m[n.Number] = n
		}
		return m
	}
	unresolved := notes("unresolved")
	for num, sys := range map[string]string{"3754659": "PRD on sapprd01", "3692165": "PRD on sapprd01", "3732522": "HDB on sapprd01"} {
		n, ok := unresolved[num]
		if !ok || len(n.Systems) != 1 || n.Systems[0] != sys || n.Findings[0].Verdict != "applies" {
			t.Errorf("unresolved note %s = %+v, want on %s", num, n, sys)
		}
	}
	if _, ok := unresolved["3724838"]; ok {
		t.Error("3724838 (SAP_BASIS 751-816) matched an SAP_BASIS 750 system")
	}
	review := notes("manual_review")
	if n, ok := review["3747367"]; !ok || !strings.Contains(n.Findings[len(n.Findings)-1].Reason, "KERNEL 7.53") {
		t.Errorf("manual review 3747367 = %+v", n)
	}
	var bad map[string]any
	if code := srv.api(t, token, "GET", "/api/v1/sap/notes?status=open", nil, &bad); code != 400 {
		t.Errorf("bad status filter: %d", code)
	}

	// A wrong database password: the scan still succeeds, the system says
	// why its table was not read, and components fall back to sapcontrol.
	if code := srv.api(t, token, "DELETE", "/api/v1/sap/db-logins/"+strconv.FormatInt(login.ID, 10), nil, nil); code != 204 {
		t.Fatalf("delete login: %d", code)
	}
	const wrongPass = "not-the-db-pass"
	if code := srv.api(t, token, "POST", "/api/v1/credentials", map[string]any{"name": "hana-wrong", "username": "VIGIL_RO", "password": wrongPass}, &cred); code != 201 {
		t.Fatalf("create credential: %d", code)
	}
	if code := srv.api(t, token, "POST", "/api/v1/sap/db-logins", map[string]any{"credential_id": cred.ID}, &login); code != 201 {
		t.Fatalf("create SAP database login: %d", code)
	}
	o := runAgent(t, cfgFile)
	if !strings.Contains(o, "1 ok") || strings.Contains(o, wrongPass) || strings.Contains(o, dbPass) {
		t.Fatalf("agent output:\n%s", o)
	}
	prd = prdSystem()
	if ok, detail := componentTable(prd); ok || !strings.Contains(detail, "hdbsql as VIGIL_RO: * 10: authentication failed") || strings.Contains(detail, wrongPass) {
		t.Fatalf("component table source after a wrong password: %v %q", ok, detail)
	}
	for _, c := range prd.Components {
		if c.Name == "SAP_BASIS" && !strings.HasPrefix(c.Source, "sapcontrol") {
			t.Errorf("SAP_BASIS after a failed table read: %+v", c)
		}
	}
}
