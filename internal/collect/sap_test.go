package collect

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport"
)

// The SAP fixtures are constructed (testdata/sap/README.md).
func sapFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "sap", "outputs", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseDispWorkVersion(t *testing.T) {
	tests := []struct {
		file    string
		want    inventory.SAPKernel
		noteRel string
		err     string
	}{
		{"dispwork_753.txt", inventory.SAPKernel{Release: "753", PatchLevel: "1100", MakeVariant: "753_REL", Unicode: true, Bits: 64,
			CompiledOn: "Linux GNU SLES-11 x86_64 cc4.8.5 use-pr211015 for linuxx86_64"}, "7.53", ""},
		{"dispwork_785_dblib.txt", inventory.SAPKernel{Release: "785", PatchLevel: "300", MakeVariant: "785_REL", Unicode: true, Bits: 64,
			CompiledOn: "Linux GNU SLES-12 x86_64 cc8.2.1 use-pr220209 for linuxx86_64"}, "7.85", ""},
		{"dispwork_722ext_colon.txt", inventory.SAPKernel{Release: "722", PatchLevel: "1400", MakeVariant: "722_EXT_REL", Unicode: false, Bits: 64,
			CompiledOn: "AIX 2 7 00F8D6D74C00 for rs6000_64"}, "7.22EXT", ""},
		{"dispwork_trace.txt", inventory.SAPKernel{Release: "789", PatchLevel: "210", MakeVariant: "789_REL", Unicode: true,
			CompiledOn: "Linux GNU SLES-15 x86_64"}, "7.89", ""},
		{"dispwork_denied.txt", inventory.SAPKernel{}, "", "Permission denied"},
		{"dispwork_garbage.txt", inventory.SAPKernel{}, "", "no kernel release"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			k, err := ParseDispWorkVersion(sapFixture(t, tc.file))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*k, tc.want) {
				t.Errorf("kernel = %+v\nwant     %+v", *k, tc.want)
			}
			if got := KernelNoteRelease(k); got != tc.noteRel {
				t.Errorf("note release = %q, want %q", got, tc.noteRel)
			}
		})
	}
}

func TestParseSAPControlVersionInfo(t *testing.T) {
	tests := []struct {
		file, release, patch, err string
	}{
		{"versioninfo.txt", "753", "1100", ""},
		{"versioninfo_dispwork.txt", "789", "210", ""}, // disp+work's line wins over sapstartsrv's
		{"versioninfo_fail.txt", "", "", "FAIL: NIECONN_REFUSED"},
		{"components.txt", "", "", "no executable version line"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			k, err := ParseSAPControlVersionInfo(sapFixture(t, tc.file))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || k.Release != tc.release || k.PatchLevel != tc.patch || !k.Unicode {
				t.Fatalf("kernel = %+v, %v", k, err)
			}
		})
	}
}

func TestParseSAPComponentList(t *testing.T) {
	cs, err := ParseSAPComponentList(sapFixture(t, "components.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 9 {
		t.Fatalf("%d components: %+v", len(cs), cs)
	}
	want := inventory.SAPComponent{Name: "SAP_BASIS", Release: "750", SPLevel: "0012", Source: "sapcontrol ABAPGetComponentList"}
	if cs[0] != want || cs[3].Name != "SAP_UI" || cs[3].Release != "754" || cs[8].Name != "EA-APPL" {
		t.Errorf("components = %+v", cs)
	}
	for _, bad := range []string{"components_fail.txt", "versioninfo.txt", "dispwork_denied.txt"} {
		if _, err := ParseSAPComponentList(sapFixture(t, bad)); err == nil {
			t.Errorf("%s parsed", bad)
		}
	}
}

func TestParseHDBVersion(t *testing.T) {
	for _, f := range []string{"hdb_version.txt", "hdb_manifest.txt"} {
		db, err := ParseHDBVersion(sapFixture(t, f))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if db.Product != "HANA" || db.Version != "2.00.059.04.1660047386" && db.Version != "2.00.059.04" || db.Release != "2.00" || db.Level != "059" {
			t.Errorf("%s: %+v", f, db)
		}
	}
	if _, err := ParseHDBVersion([]byte("HDB version info:\n  branch: x\n")); err == nil {
		t.Error("no version accepted")
	}
}

func TestParseSAPDBDir(t *testing.T) {
	tests := []struct {
		dir, product, release string
		ok                    bool
	}{
		{"/sybase/PRD/ASE-16_0", "ASE", "16.0", true},
		{"/oracle/PRD/19.0.0", "Oracle", "19", true},
		{"/oracle/PRD/121", "Oracle", "12.1", true},
		{"/tmp/root/oracle/PRD/112_64", "", "", false},
		{"/sybase/PRD/OCS-16_0", "", "", false},
		{"/db2/PRD", "", "", false},
	}
	for _, tc := range tests {
		db, ok := ParseSAPDBDir(tc.dir)
		if ok != tc.ok || ok && (db.Product != tc.product || db.Release != tc.release) {
			t.Errorf("%s: %+v %v", tc.dir, db, ok)
		}
	}
}

func TestParseSAPServices(t *testing.T) {
	tests := []struct {
		file string
		want []SAPService
	}{
		{"sapservices_classic.txt", []SAPService{
			{SID: "PRD", Instance: "ASCS01", Host: "sapascs", Profile: "/usr/sap/PRD/SYS/profile/PRD_ASCS01_sapascs", User: "prdadm"},
			{SID: "PRD", Instance: "D00", Host: "sapprd01", Profile: "/usr/sap/PRD/SYS/profile/PRD_D00_sapprd01", User: "prdadm"},
			{SID: "HDB", Instance: "HDB00", Host: "saphana", Profile: "/usr/sap/HDB/SYS/profile/HDB_HDB00_saphana", User: "hdbadm"},
		}},
		{"sapservices_systemd.txt", []SAPService{
			{SID: "PRD", Instance: "D00", Host: "sapprd01", Profile: "/usr/sap/PRD/SYS/profile/PRD_D00_sapprd01"},
			{SID: "PRD", Instance: "ASCS01", Host: "sapascs", Profile: "/usr/sap/PRD/SYS/profile/PRD_ASCS01_sapascs"},
			{SID: "DAA"},
		}},
	}
	for _, tc := range tests {
		got := ParseSAPServices(sapFixture(t, tc.file))
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.file, got, tc.want)
		}
	}
}

func TestParseSAPProfile(t *testing.T) {
	params := ParseSAPProfile(sapFixture(t, "DEFAULT.PFL"))
	if params["SAPSYSTEMNAME"] != "PRD" || params["dbms/type"] != "hdb" || params["icm/HTTP/logging_0"] != "PREFIX=/, LOGFILE=http_%y_%m.log, MAXSIZEKB=10000" {
		t.Errorf("params = %v", params)
	}
	kept := keepProfileParams(params)
	if kp := keepProfileParams(map[string]string{"snc/password": "x", "icm/HTTPS/pwd": "y", "login/min_password_lng": "8"}); len(kp) != 1 {
		t.Errorf("secret-looking parameters kept: %v", kp)
	}
	for _, k := range []string{"login/min_password_lng", "login/password_hash_algorithm", "gw/acl_mode", "rdisp/mshost", "SAPGLOBALHOST", "system/type", "icm/HTTP/logging_0",
		"dbs/hdb/schema", "dbs/hdb/dbname"} {
		if _, ok := kept[k]; !ok {
			t.Errorf("%s not kept", k)
		}
	}
	// Database connection details other than the schema and tenant names,
	// and anything that looks like a secret, stay on the host.
	for _, k := range []string{"rsdb/ssfs_connect", "j2ee/dbhost"} {
		if _, ok := kept[k]; ok {
			t.Errorf("%s kept", k)
		}
	}
	inst := keepProfileParams(ParseSAPProfile(sapFixture(t, "PRD_D00_sapprd01")))
	if inst["rdisp/wp_no_dia"] != "10" || inst["icm/server_port_1"] != "PROT=HTTPS,PORT=443$$,PROCTIMEOUT=600" || inst["abap/buffersize"] != "" {
		t.Errorf("instance params = %v", inst)
	}
}

func TestParseTransport(t *testing.T) {
	buf := ParseTPBuffer(sapFixture(t, "tpbuffer_PRD.txt"))
	if len(buf) != 5 || buf[0] != "DEVK900101" {
		t.Fatalf("buffer = %v", buf)
	}
	steps := ParseTPLog(sapFixture(t, "alog.txt"), "PRD")
	if len(steps) != 6 {
		t.Fatalf("steps = %+v", steps)
	}
	st := transportState(buf, steps)
	want := &inventory.SAPTransport{Dir: "/usr/sap/trans", QueueDepth: 2, FailedImports: 1, Source: "buffer and ALOG",
		LastImport: &inventory.SAPImport{Request: "DEVK900103", At: "20260712080000", ReturnCode: 0, Status: "ok"}}
	if !reflect.DeepEqual(st, want) {
		t.Errorf("transport = %+v (last %+v)", st, st.LastImport)
	}
	if st := transportState(buf, nil); st.QueueDepth != 5 || st.LastImport != nil || st.Source != "buffer" {
		t.Errorf("buffer only = %+v", st)
	}
}

// rootedSAPCommand points the discovery command at a file tree: the
// command is the production one with its absolute roots moved.
func rootedSAPCommand(root string) string {
	r := strings.NewReplacer("/usr/sap", root+"/usr/sap", "/sapmnt/", root+"/sapmnt/", "/sybase/", root+"/sybase/", "/oracle/", root+"/oracle/")
	return r.Replace(SAPCommand())
}

type shRunner struct{}

func (shRunner) Run(ctx context.Context, cmd string) ([]byte, error) {
	return exec.CommandContext(ctx, "sh", "-c", cmd).Output()
}

// TestSAPCommandOnEmulatedHost runs the real discovery command with sh
// against the constructed application server in testdata/sap/root.
func TestSAPCommandOnEmulatedHost(t *testing.T) {
	root, err := filepath.Abs("testdata/sap/root")
	if err != nil {
		t.Fatal(err)
	}
	out, err := shRunner{}.Run(context.Background(), rootedSAPCommand(root))
	if err != nil {
		t.Fatalf("command: %v\n%s", err, out)
	}
	systems, err := ParseSAP(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(systems) != 2 || systems[0].SID != "HDB" || systems[1].SID != "PRD" {
		t.Fatalf("systems = %+v", systems)
	}
	hdb, prd := systems[0], systems[1]
	if hdb.Database == nil || hdb.Database.Release != "2.00" || hdb.Database.Level != "059" {
		t.Errorf("HDB database = %+v", hdb.Database)
	}
	if !hasComponent(hdb.Components, "HDB", "2.00", "059") {
		t.Errorf("HDB components = %+v", hdb.Components)
	}
	if len(prd.Instances) != 2 || prd.Instances[0].Name != "ASCS01" || prd.Instances[0].Type != "ascs" || !prd.Instances[0].Registered ||
		prd.Instances[1].Name != "D00" || prd.Instances[1].Type != "abap" || prd.Instances[1].Host != "sapprd01" {
		t.Errorf("PRD instances = %+v", prd.Instances)
	}
	if k := prd.Instances[0].Kernel; k == nil || k.Source != "sapcontrol GetVersionInfo" || k.PatchLevel != "1100" {
		t.Errorf("ASCS kernel = %+v", k)
	}
	if k := prd.Kernel; k == nil || k.Release != "753" || k.PatchLevel != "1100" || k.Source == "" {
		t.Errorf("PRD kernel = %+v", k)
	}
	for _, c := range [][3]string{{"SAP_BASIS", "750", ""}, {"KERNEL", "7.53", "1100"}, {"KRNL64UC", "7.53", "1100"}} {
		if !hasComponent(prd.Components, c[0], c[1], c[2]) {
			t.Errorf("PRD lacks %v: %+v", c, prd.Components)
		}
	}
	if prd.Profile["login/min_password_lng"] != "8" || prd.Instances[1].Params["rdisp/wp_no_dia"] != "10" {
		t.Errorf("profile = %v, D00 params = %v (the .1 backup must not win)", prd.Profile, prd.Instances[1].Params)
	}
	if prd.Database == nil || prd.Database.Product != "HANA" || prd.Database.Host != "saphana" {
		t.Errorf("PRD database = %+v", prd.Database)
	}
	if tr := prd.Transport; tr == nil || tr.QueueDepth != 2 || tr.FailedImports != 1 || tr.LastImport == nil || tr.LastImport.Request != "DEVK900103" {
		t.Errorf("PRD transport = %+v", tr)
	}
	avail := map[string]bool{}
	for _, s := range prd.Sources {
		avail[s.Name] = s.Available
	}
	// PRD's database runs under its own SID (HDB): from PRD's side only
	// the profile's dbms/type is known, not a version.
	want := map[string]bool{SAPSourceProfiles: true, SAPSourceSAPServices: true, SAPSourceKernel: true, SAPSourceComponents: true,
		SAPSourceDatabase: false, SAPSourceTransport: true}
	if !reflect.DeepEqual(avail, want) {
		t.Errorf("PRD sources = %+v", prd.Sources)
	}
	// HDB has no transport directory and no ABAP instance: said so.
	for _, s := range hdb.Sources {
		if (s.Name == SAPSourceComponents || s.Name == SAPSourceTransport) && (s.Available || s.Detail == "") {
			t.Errorf("HDB source %+v", s)
		}
	}

	// Through ScanSAP, the probe result says discovery ran.
	rep := &inventory.HostReport{}
	if err := ScanSAP(context.Background(), rootedRunner{root}, rep, time.Now()); err != nil {
		t.Fatal(err)
	}
	if !rep.HasSAPScan() || len(rep.SAP) != 2 {
		t.Fatalf("ScanSAP: probes %+v, %d systems", rep.Probes, len(rep.SAP))
	}
}

type rootedRunner struct{ root string }

func (r rootedRunner) Run(ctx context.Context, cmd string) ([]byte, error) {
	if cmd != SAPCommand() {
		return nil, &exec.Error{Name: cmd, Err: exec.ErrNotFound}
	}
	return shRunner{}.Run(ctx, rootedSAPCommand(r.root))
}

func TestSAPCommandWithoutSAP(t *testing.T) {
	out, err := shRunner{}.Run(context.Background(), rootedSAPCommand(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	systems, err := ParseSAP(out)
	if err != nil || systems == nil || len(systems) != 0 {
		t.Fatalf("systems = %+v, %v; want an empty list", systems, err)
	}
}

func TestParseSAPUnreadableSources(t *testing.T) {
	out := "==> usrsap <==\nQAS\n==> sid QAS <==\n==> instance QAS D10 <==\n==> dispwork QAS D10 <==\nsh: ./disp+work: Permission denied\n" +
		"==> components QAS D10 <==\n" + string(sapFixture(t, "components_fail.txt")) + "==> tpbuffer QAS (unreadable) <==\n"
	systems, err := ParseSAP([]byte(out))
	if err != nil || len(systems) != 1 {
		t.Fatalf("%+v %v", systems, err)
	}
	q := systems[0]
	if q.Kernel != nil || len(q.Components) != 0 {
		t.Errorf("kernel %+v components %+v", q.Kernel, q.Components)
	}
	for _, s := range q.Sources {
		if s.Available {
			t.Errorf("source %+v available", s)
		}
		if s.Detail == "" {
			t.Errorf("source %s without a reason", s.Name)
		}
	}
	if _, err := ParseSAP([]byte("garbage")); err == nil {
		t.Error("garbage parsed")
	}
}

func hasComponent(cs []inventory.SAPComponent, name, release, patch string) bool {
	for _, c := range cs {
		if c.Name == name && c.Release == release && (patch == "" || c.PatchLevel == patch) {
			return true
		}
	}
	return false
}

// TestParseSAPWindows reads the constructed output of the Windows script:
// services instead of sapservices, backslashed paths, "Access is denied".
func TestParseSAPWindows(t *testing.T) {
	systems, err := ParseSAP(sapFixture(t, "discovery_windows.txt"))
	if err != nil || len(systems) != 1 {
		t.Fatalf("%+v %v", systems, err)
	}
	p := systems[0]
	if len(p.Instances) != 2 || !p.Instances[0].Registered || !p.Instances[1].Registered || p.Instances[1].Params["rdisp/wp_no_dia"] != "8" {
		t.Errorf("instances = %+v", p.Instances)
	}
	if p.Kernel == nil || p.Kernel.Release != "789" || p.Kernel.PatchLevel != "210" || !hasComponent(p.Components, "KRNL64UC", "7.89", "210") {
		t.Errorf("kernel %+v components %+v", p.Kernel, p.Components)
	}
	if p.Database == nil || p.Database.Product != "MSSQL" || p.Profile["login/min_password_lng"] != "10" {
		t.Errorf("database %+v profile %v", p.Database, p.Profile)
	}
	if tr := p.Transport; tr == nil || tr.QueueDepth != 1 || tr.FailedImports != 1 || tr.LastImport.Status != "fatal" {
		t.Errorf("transport %+v", tr)
	}
	for _, s := range p.Sources {
		if s.Name == SAPSourceComponents && (s.Available || !strings.Contains(s.Detail, "Access is denied")) {
			t.Errorf("components source %+v", s)
		}
	}
}

// The discovery commands are read-only: no transport tool, nothing that
// deletes, moves, writes or starts and stops anything.
func TestSAPCommandsReadOnly(t *testing.T) {
	script, ok := transport.DecodePowerShell(SAPWindowsCommand())
	if !ok {
		t.Fatal("Windows command is not an encoded PowerShell script")
	}
	for name, cmd := range map[string]string{"unix": SAPCommand(), "windows": script} {
		// Discarding stderr is the only redirection allowed.
		lower := strings.ReplaceAll(strings.ToLower(cmd), "2>/dev/null", "")
		for _, bad := range []string{" tp ", "tp.exe", "r3trans", "rm ", "mv ", "cp ", "chmod", "chown", "mkdir", "tee ", "> /", ">/",
			"set-item", "remove-", "new-item", "set-content", "out-file", "start-service", "stop-service", "restart-", "-function start",
			"-function stop", "-function restart", "stopsystem", "startsystem", "stopservice",
			// The registry is only listed and read.
			"set-itemproperty", "new-itemproperty", "remove-itemproperty", "rename-item", "copy-item", "move-item", "clear-item",
			"reg add", "reg delete", "reg import", "reg.exe", "setvalue(", "createsubkey", "deletesubkey", "deletevalue"} {
			if strings.Contains(lower, bad) {
				t.Errorf("%s command contains %q", name, bad)
			}
		}
	}
	for _, fn := range []string{"GetVersionInfo", "ABAPGetComponentList"} {
		if !strings.Contains(SAPCommand(), "-function "+fn) || !strings.Contains(script, "'"+fn+"'") {
			t.Errorf("%s missing", fn)
		}
	}
}
