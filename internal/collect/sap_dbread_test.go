package collect

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport"
	"github.com/vigil-project/vigil/internal/transport/local"
)

func TestParseCVERS(t *testing.T) {
	tests := []struct {
		file    string
		n       int
		want    inventory.SAPComponent // one row that must be there
		wantErr string
	}{
		{file: "cvers_hdbsql.txt", n: 10, want: inventory.SAPComponent{Name: "SAP_BASIS", Release: "750", SPLevel: "0025"}},
		{file: "cvers_hdbsql.txt", n: 10, want: inventory.SAPComponent{Name: "/SAPAPO/APO", Release: "100_731"}},
		{file: "cvers_isql.txt", n: 6, want: inventory.SAPComponent{Name: "ST-PI", Release: "740", SPLevel: "0000"}},
		{file: "cvers_sqlplus.txt", n: 6, want: inventory.SAPComponent{Name: "SAP_APPL", Release: "618", SPLevel: "0008"}},
		{file: "hdbsql_auth_failed.txt", wantErr: "* 10: authentication failed SQLSTATE: 28000"},
		{file: "hdbsql_no_privilege.txt", wantErr: "insufficient privilege"},
		{file: "isql_login_failed.txt", wantErr: "Msg 4002, Level 14, State 1: Login failed."},
		{file: "sqlplus_logon_denied.txt", wantErr: "ORA-01017: invalid username/password; logon denied"},
		{file: "sqlplus_no_table.txt", wantErr: "ORA-00942"},
		{file: "schemas_hdbsql.txt", wantErr: "no component rows"},
		{file: "cvers_sqlcmd.txt", n: 6, want: inventory.SAPComponent{Name: "SAP_BASIS", Release: "750", SPLevel: "0025"}},
		{file: "sqlcmd_login_failed.txt", wantErr: "Sqlcmd: Error: Microsoft ODBC Driver 17 for SQL Server : Login failed for user 'VIGIL_RO'"},
		{file: "sqlcmd_no_table.txt", wantErr: "Msg 208, Level 16, State 1, Server SAPPRD01, Line 2 Invalid object name 'prd.CVERS'."},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			comps, err := ParseCVERS(sapFixture(t, tt.file))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(comps) != tt.n {
				t.Fatalf("%d components, err %v: %+v", len(comps), err, comps)
			}
			found := false
			for _, c := range comps {
				found = found || c == tt.want
			}
			if !found {
				t.Errorf("%+v not in %+v", tt.want, comps)
			}
		})
	}
}

func TestParseCVERSVariants(t *testing.T) {
	tests := []struct {
		name, out string
		n         int
	}{
		{"header and dashes", "COMPONENT|RELEASE|EXTRELEASE|COMP_TYPE\n---------|-------|----------|---------\nSAP_BASIS|750|0012|S\n", 1},
		{"crlf", "\"SAP_BASIS\"|\"750\"|\"0012\"|\"S\"\r\n\"SAP_ABA\"|\"750\"|\"0012\"|\"S\"\r\n", 2},
		{"three columns", "SAP_BASIS|750|0012\n", 1},
		{"repeated row", "SAP_BASIS|750|0012|S\nSAP_BASIS|750|0012|S\n", 1},
		{"lower-case name", "sap_basis|750|0012|S\n", 1},
		{"junk between rows", "Password:\nwelcome to the database\nSAP_BASIS|750|0012|S\n(1 row affected)\n", 1},
		{"too many columns", "SAP_BASIS|750|0012|S|extra\n", 0},
		{"release with blanks", "SAP_BASIS|7 50|0012|S\n", 0},
		{"shell injection in name", "SAP;rm -rf|750|0012|S\n", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			comps, err := ParseCVERS([]byte(tt.out))
			if len(comps) != tt.n || (tt.n == 0) != (err != nil) {
				t.Fatalf("%d components, err %v: %+v", len(comps), err, comps)
			}
		})
	}
}

func TestPickSAPSchema(t *testing.T) {
	tests := []struct {
		sid     string
		schemas []string
		want    string
	}{
		{"PRD", []string{"SAPABAP1", "SAPHANADB"}, "SAPHANADB"},
		{"PRD", []string{"SAPABAP1", "SAPPRD"}, "SAPPRD"},
		{"PRD", []string{"SAPSR3", "ZCOPY"}, "SAPSR3"},
		{"PRD", []string{"ZCOPY"}, "ZCOPY"},
	}
	for _, tt := range tests {
		if got := pickSAPSchema(tt.sid, tt.schemas); got != tt.want {
			t.Errorf("pickSAPSchema(%s, %v) = %s, want %s", tt.sid, tt.schemas, got, tt.want)
		}
	}
	if got := parseSchemaList(sapFixture(t, "schemas_hdbsql.txt"), false); len(got) != 2 || got[0] != "SAPABAP1" {
		t.Errorf("parseSchemaList = %v", got)
	}
	for in, want := range map[string]string{"SR3": "SAPSR3", "SAPHANADB": "SAPHANADB", "sapabap1": "SAPABAP1", "": "", "BAD NAME": ""} {
		if got := profileSchema(in, false); got != want {
			t.Errorf("profileSchema(%q) = %q, want %q", in, got, want)
		}
	}
}

// fakeDB emulates the three database clients: it answers by the tool the
// command starts and the statement on stdin, and remembers every command
// line and input it was given.
type fakeDB struct {
	t        *testing.T
	password string
	outputs  map[string]string // key: tool + " " + statement kind (schemas, cvers)
	commands []string
	inputs   []string
}

func (f *fakeDB) Run(context.Context, string) ([]byte, error) {
	return nil, errors.New("fakeDB: only RunInput is expected")
}

func (f *fakeDB) RunInput(_ context.Context, cmd string, stdin []byte) ([]byte, error) {
	f.commands, f.inputs = append(f.commands, cmd), append(f.inputs, string(stdin))
	tool := ""
	for _, t := range []string{"hdbsql", "isql", "sqlplus"} {
		if strings.Contains(cmd, "exec \"$c\" -j") && t == "hdbsql" || strings.Contains(cmd, "/bin/isql") && t == "isql" || strings.Contains(cmd, "/bin/sqlplus") && t == "sqlplus" {
			tool = t
		}
	}
	in := string(stdin)
	if !strings.Contains(in, f.password) {
		return []byte(f.outputs[tool+" denied"]), &transport.ExitError{Code: 1}
	}
	kind := "cvers"
	if strings.Contains(in, "SYS.TABLES") || strings.Contains(in, "ALL_TABLES") {
		kind = "schemas"
	}
	out, ok := f.outputs[tool+" "+kind]
	if !ok {
		f.t.Errorf("no answer for %s %s", tool, kind)
	}
	return []byte(out), nil
}

func sapSystem(sid, dbType string, profile map[string]string, instances ...string) inventory.SAPSystem {
	s := inventory.SAPSystem{SID: sid, Profile: profile, Database: &inventory.SAPDatabase{Type: dbType, Product: dbProduct(dbType)},
		Components: []inventory.SAPComponent{{Name: "SAP_BASIS", Release: "750", SPLevel: "0012", Source: "sapcontrol ABAPGetComponentList"},
			{Name: "KRNL64UC", Release: "7.53", PatchLevel: "1100", Source: "disp+work -version"}}}
	for _, n := range instances {
		s.Instances = append(s.Instances, inventory.SAPInstance{Name: n, Number: instanceNumber(n), Type: instanceType(n)})
	}
	return s
}

func componentSource(s inventory.SAPSystem) inventory.SAPSource {
	for _, src := range s.Sources {
		if src.Name == SAPSourceComponentTable {
			return src
		}
	}
	return inventory.SAPSource{Name: "missing"}
}

// TestReadSAPComponentTables drives each client through the fake: the
// login never appears on a command line, the schema comes from the login,
// the profile or the catalogue, and every system says what happened.
func TestReadSAPComponentTables(t *testing.T) {
	const pw = "S3cret!pw"
	outputs := map[string]string{
		"hdbsql cvers":   string(sapFixture(t, "cvers_hdbsql.txt")),
		"hdbsql schemas": string(sapFixture(t, "schemas_hdbsql.txt")),
		"hdbsql denied":  string(sapFixture(t, "hdbsql_auth_failed.txt")),
		"isql cvers":     string(sapFixture(t, "cvers_isql.txt")),
		"isql denied":    string(sapFixture(t, "isql_login_failed.txt")),
		"sqlplus cvers":  string(sapFixture(t, "cvers_sqlplus.txt")),
		"sqlplus denied": string(sapFixture(t, "sqlplus_logon_denied.txt")),
	}
	login := func(sid, user, pass string) inventory.SAPDBLogin {
		return inventory.SAPDBLogin{SID: sid, Credential: &inventory.Credential{Username: user, Password: pass}}
	}
	tests := []struct {
		name       string
		systems    []inventory.SAPSystem
		logins     []inventory.SAPDBLogin
		wantOK     bool
		wantDetail string
		wantInput  []string // substrings of the last stdin
		wantRuns   int
		wantComps  int // components after the merge (0: unchanged)
	}{
		{name: "hana local tenant, schema from profile",
			systems: []inventory.SAPSystem{sapSystem("PRD", "hdb", map[string]string{"dbs/hdb/schema": "SAPHANADB", "dbs/hdb/dbname": "HDB"}, "D00", "ASCS01"),
				sapSystem("HDB", "hdb", nil, "HDB00")},
			logins: []inventory.SAPDBLogin{login("PRD", "VIGIL_RO", pw)}, wantOK: true,
			wantDetail: "10 components from SAPHANADB.CVERS (schema dbs/hdb/schema) via hdbsql as VIGIL_RO",
			wantInput:  []string{`\connect -n localhost:30013 -d HDB -u VIGIL_RO -p ` + pw + ";\n", `FROM "SAPHANADB"."CVERS" ORDER BY COMPONENT;`},
			wantRuns:   1, wantComps: 11},
		{name: "hana remote, schema from the catalogue",
			systems: []inventory.SAPSystem{sapSystem("PRD", "hdb", nil, "D00")},
			logins:  []inventory.SAPDBLogin{{Credential: &inventory.Credential{Username: "VIGIL_RO", Password: pw}, Address: "hanadb01:30015"}}, wantOK: true,
			wantDetail: "SAPHANADB.CVERS (schema found in the catalogue)",
			wantInput:  []string{`\connect -n hanadb01:30015 -u VIGIL_RO -p `, `"SAPHANADB"."CVERS"`},
			wantRuns:   2, wantComps: 11},
		{name: "hana remote without an address",
			systems: []inventory.SAPSystem{sapSystem("PRD", "hdb", nil, "D00")},
			logins:  []inventory.SAPDBLogin{login("", "VIGIL_RO", pw)}, wantDetail: "set the database address"},
		{name: "hana wrong password",
			systems: []inventory.SAPSystem{sapSystem("PRD", "hdb", map[string]string{"dbs/hdb/schema": "SAPHANADB"}, "D00", "HDB00")},
			logins:  []inventory.SAPDBLogin{login("PRD", "VIGIL_RO", "wrong")}, wantDetail: "hdbsql as VIGIL_RO: * 10: authentication failed", wantRuns: 1},
		{name: "hana password hdbsql cannot take",
			systems: []inventory.SAPSystem{sapSystem("PRD", "hdb", nil, "D00", "HDB00")},
			logins:  []inventory.SAPDBLogin{login("PRD", "VIGIL_RO", "two words")}, wantDetail: "use another password"},
		{name: "ase with the SAP default schema",
			systems: []inventory.SAPSystem{sapSystem("ERP", "syb", nil, "DVEBMGS00")},
			logins:  []inventory.SAPDBLogin{login("ERP", "vigilro", pw)}, wantOK: true,
			wantDetail: "6 components from SAPSR3.CVERS (schema SAP default) via isql",
			wantInput:  []string{pw + "\n", "FROM ERP.SAPSR3.CVERS ORDER BY COMPONENT\ngo\n"}, wantRuns: 1, wantComps: 7},
		{name: "ase login failed",
			systems: []inventory.SAPSystem{sapSystem("ERP", "syb", nil, "DVEBMGS00")},
			logins:  []inventory.SAPDBLogin{login("ERP", "vigilro", "nope")}, wantDetail: "Msg 4002, Level 14, State 1: Login failed.", wantRuns: 1},
		{name: "oracle with the profile's schema suffix",
			systems: []inventory.SAPSystem{sapSystem("ORA", "ora", map[string]string{"dbs/ora/schema": "SR3"}, "D10")},
			logins:  []inventory.SAPDBLogin{login("", "VIGIL_RO", pw)}, wantOK: true,
			wantDetail: "6 components from SAPSR3.CVERS",
			wantInput:  []string{"CONNECT VIGIL_RO/\"" + pw + "\"@ORA\n", `FROM "SAPSR3".CVERS`, "EXIT\n"}, wantRuns: 1, wantComps: 7},
		{name: "oracle denied",
			systems: []inventory.SAPSystem{sapSystem("ORA", "ora", map[string]string{"dbs/ora/schema": "SR3"}, "D10")},
			logins:  []inventory.SAPDBLogin{login("ORA", "VIGIL_RO", "x")}, wantDetail: "ORA-01017", wantRuns: 1},
		{name: "no login",
			systems: []inventory.SAPSystem{sapSystem("PRD", "hdb", nil, "D00")}, wantDetail: "no database login for PRD"},
		{name: "login for another SID",
			systems: []inventory.SAPSystem{sapSystem("PRD", "hdb", nil, "D00")},
			logins:  []inventory.SAPDBLogin{login("QAS", "VIGIL_RO", pw)}, wantDetail: "no database login for PRD"},
		{name: "wildcard login, no ABAP instance",
			systems: []inventory.SAPSystem{sapSystem("HDB", "hdb", nil, "HDB00")},
			logins:  []inventory.SAPDBLogin{login("", "VIGIL_RO", pw)}, wantDetail: "no ABAP instance of HDB"},
		{name: "unsupported database",
			systems: []inventory.SAPSystem{sapSystem("PRD", "db6", nil, "D00")},
			logins:  []inventory.SAPDBLogin{login("PRD", "VIGIL_RO", pw)}, wantDetail: "PRD runs on Db2"},
		{name: "bad address",
			systems: []inventory.SAPSystem{sapSystem("PRD", "hdb", nil, "D00")},
			logins:  []inventory.SAPDBLogin{{SID: "PRD", Credential: &inventory.Credential{Username: "U", Password: pw}, Address: "h;reboot"}}, wantDetail: "database login: address"},
		{name: "bad user",
			systems: []inventory.SAPSystem{sapSystem("PRD", "ora", nil, "D00")},
			logins:  []inventory.SAPDBLogin{login("PRD", "x' -P 'y", pw)}, wantDetail: "database user"},
		{name: "no password",
			systems: []inventory.SAPSystem{sapSystem("PRD", "ora", nil, "D00")},
			logins:  []inventory.SAPDBLogin{login("PRD", "VIGIL_RO", "")}, wantDetail: "no username or password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeDB{t: t, password: pw, outputs: outputs}
			ReadSAPComponentTables(context.Background(), f, tt.systems, tt.logins, nil)
			src := componentSource(tt.systems[0])
			if src.Available != tt.wantOK || !strings.Contains(src.Detail, tt.wantDetail) {
				t.Fatalf("source = %+v, want available=%v with %q", src, tt.wantOK, tt.wantDetail)
			}
			if len(f.commands) != tt.wantRuns {
				t.Errorf("%d client runs, want %d", len(f.commands), tt.wantRuns)
			}
			for _, c := range f.commands {
				if strings.Contains(c, pw) || strings.Contains(c, "wrong") {
					t.Errorf("password on the command line: %s", c)
				}
			}
			if strings.Contains(src.Detail, pw) {
				t.Errorf("password in the source detail: %s", src.Detail)
			}
			for _, w := range tt.wantInput {
				if len(f.inputs) == 0 || !strings.Contains(f.inputs[len(f.inputs)-1], w) {
					t.Errorf("stdin %q lacks %q", f.inputs, w)
				}
			}
			comps := tt.systems[0].Components
			if tt.wantComps == 0 {
				if len(comps) != 2 || comps[0].Source != "sapcontrol ABAPGetComponentList" {
					t.Errorf("components changed without a read: %+v", comps)
				}
				return
			}
			if len(comps) != tt.wantComps || !hasComponent(comps, "KRNL64UC", "7.53", "1100") {
				t.Fatalf("components = %+v", comps)
			}
			for _, c := range comps {
				if c.Name == "SAP_BASIS" && (c.SPLevel != "0025" || !strings.HasPrefix(c.Source, "CVERS (")) {
					t.Errorf("SAP_BASIS = %+v, want the table's row in place of sapcontrol's", c)
				}
			}
		})
	}
}

// A Vault reference in the login is resolved through the agent's
// callback, and a failing resolution is the system's reason.
func TestReadSAPComponentTablesResolve(t *testing.T) {
	sys := []inventory.SAPSystem{sapSystem("PRD", "syb", nil, "D00")}
	logins := []inventory.SAPDBLogin{{SID: "PRD", Credential: &inventory.Credential{Username: "vigilro", Password: "vault:secret/sap#pw"}}}
	f := &fakeDB{t: t, password: "from-vault", outputs: map[string]string{"isql cvers": string(sapFixture(t, "cvers_isql.txt"))}}
	ReadSAPComponentTables(context.Background(), f, sys, logins, func(_ context.Context, c *inventory.Credential) (*inventory.Credential, error) {
		return &inventory.Credential{Username: c.Username, Password: "from-vault"}, nil
	})
	if src := componentSource(sys[0]); !src.Available {
		t.Fatalf("resolved login: %+v", src)
	}
	sys = []inventory.SAPSystem{sapSystem("PRD", "syb", nil, "D00")}
	ReadSAPComponentTables(context.Background(), f, sys, logins, func(context.Context, *inventory.Credential) (*inventory.Credential, error) {
		return nil, errors.New("vault: permission denied")
	})
	if src := componentSource(sys[0]); src.Available || !strings.Contains(src.Detail, "vault: permission denied") {
		t.Fatalf("failed resolution: %+v", src)
	}
	// A runner that cannot feed stdin is named, not failed.
	sys = []inventory.SAPSystem{sapSystem("PRD", "syb", nil, "D00")}
	ReadSAPComponentTables(context.Background(), probeOnly{}, sys, logins, nil)
	if src := componentSource(sys[0]); src.Available || !strings.Contains(src.Detail, "standard input") {
		t.Fatalf("runner without stdin: %+v", src)
	}
}

type probeOnly struct{}

func (probeOnly) Run(context.Context, string) ([]byte, error) { return nil, errors.New("unexpected") }

// The client commands only start a client: no redirection into files, no
// second program, no password argument, and every variable part was
// validated. On Windows the same holds for the decoded PowerShell script.
func TestSAPDBCommandsReadOnly(t *testing.T) {
	l := inventory.SAPDBLogin{Credential: &inventory.Credential{Username: "VIGIL_RO", Password: "Pa55-zq-w0rd"}, Address: "db:30015"}
	n := 0
	for typ, c := range sapDBClients {
		sys := sapSystem("PRD", typ, nil, "D00")
		for _, build := range []func(*inventory.SAPSystem, inventory.SAPDBLogin) (string, error){c.command, c.winCommand} {
			if build == nil {
				continue
			}
			n++
			cmd, err := build(&sys, l)
			if err != nil {
				t.Fatal(err)
			}
			if script, ok := transport.DecodePowerShell(cmd); ok {
				cmd = script
			}
			lower := strings.ToLower(strings.ReplaceAll(cmd, ">&2", ""))
			for _, bad := range []string{">", "rm ", "tee", "curl", "insert", "update", "delete", "drop", "grant", "-p ", "set-item", "remove-",
				"new-item", "out-file", "set-content", "add-content", "start-process", "invoke-expression", "iex "} {
				if strings.Contains(lower, bad) {
					t.Errorf("%s command contains %q:\n%s", typ, bad, cmd)
				}
			}
			if strings.Contains(cmd, "Pa55-zq-w0rd") {
				t.Errorf("%s command holds the password:\n%s", typ, cmd)
			}
		}
		in, err := c.input(&sys, l, "SELECT 1")
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"insert", "update ", "delete", "drop", "grant"} {
			if strings.Contains(strings.ToLower(string(in)), bad) {
				t.Errorf("%s input contains %q", typ, bad)
			}
		}
	}
	if n != 5 {
		t.Errorf("%d client commands, want 5 (hdb, syb, ora on Unix; hdb, mss on Windows)", n)
	}
}

// The commands run under sh as they are: the client is looked up in the
// documented places and a missing one is a clear error.
func TestSAPDBCommandMissingClient(t *testing.T) {
	l := inventory.SAPDBLogin{Credential: &inventory.Credential{Username: "VIGIL_RO", Password: "pw"}, Address: "db:30015"}
	for typ, c := range sapDBClients {
		if c.command == nil {
			continue // Windows only
		}
		sys := sapSystem("ZZZ", typ, nil, "D00")
		cmd, _ := c.command(&sys, l)
		out, err := localSh(t, cmd)
		var exit *transport.ExitError
		if !errors.As(err, &exit) || exit.Code != 127 || !strings.Contains(exit.Stderr, c.tool+" not found") {
			t.Errorf("%s: %q %v", typ, out, err)
		}
	}
}

func localSh(t *testing.T, cmd string) ([]byte, error) {
	t.Helper()
	return local.Runner{}.Run(context.Background(), cmd)
}

// Seeds: testdata/fuzz/FuzzParseCVERS/, the constructed client outputs.
// Whatever a client prints, rows keep to the shapes the server stores.
func FuzzParseCVERS(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		comps, err := ParseCVERS(out)
		if err != nil {
			return
		}
		if len(comps) == 0 || len(comps) > inventory.MaxSAPComponents {
			t.Fatalf("%d components without an error", len(comps))
		}
		for _, c := range comps {
			if !cversNameRE.MatchString(c.Name) || !cversReleaseRE.MatchString(c.Release) || !cversLevelRE.MatchString(c.SPLevel) {
				t.Errorf("row %+v", c)
			}
		}
		for _, s := range parseSchemaList(out, true) {
			if !sapDBSchemaRE.MatchString(s) {
				t.Errorf("schema %q", s)
			}
		}
	})
}

// fakeWinDB emulates the Windows clients behind WinRM: it decodes the
// PowerShell command, answers by the client the script starts and the
// statement on stdin, and records both.
type fakeWinDB struct {
	password string
	outputs  map[string]string
	scripts  []string
	inputs   []string
}

func (f *fakeWinDB) Run(context.Context, string) ([]byte, error) {
	return nil, errors.New("only RunInput")
}

func (f *fakeWinDB) RunInput(_ context.Context, cmd string, stdin []byte) ([]byte, error) {
	script, ok := transport.DecodePowerShell(cmd)
	if !ok {
		return nil, &transport.ExitError{Code: 1, Stderr: "not PowerShell"}
	}
	f.scripts, f.inputs = append(f.scripts, script), append(f.inputs, string(stdin))
	tool := "hdbsql"
	if strings.Contains(script, "sqlcmd.exe") {
		tool = "sqlcmd"
	}
	in := string(stdin)
	if !strings.Contains(in, f.password) {
		return []byte(f.outputs[tool+" denied"]), &transport.ExitError{Code: 1}
	}
	kind := "cvers"
	if strings.Contains(in, "sys.tables") || strings.Contains(in, "SYS.TABLES") {
		kind = "schemas"
	}
	return []byte(f.outputs[tool+" "+kind]), nil
}

func TestReadSAPComponentTablesWindows(t *testing.T) {
	const pw = "W1n-Pa55"
	outputs := map[string]string{
		"sqlcmd cvers":   string(sapFixture(t, "cvers_sqlcmd.txt")),
		"sqlcmd schemas": string(sapFixture(t, "schemas_sqlcmd.txt")),
		"sqlcmd denied":  string(sapFixture(t, "sqlcmd_login_failed.txt")),
		"hdbsql cvers":   string(sapFixture(t, "cvers_hdbsql.txt")),
		"hdbsql denied":  string(sapFixture(t, "hdbsql_auth_failed.txt")),
	}
	login := func(sid, pass string) []inventory.SAPDBLogin {
		return []inventory.SAPDBLogin{{SID: sid, Credential: &inventory.Credential{Username: "VIGIL_RO", Password: pass}}}
	}
	mss := func(profile map[string]string, host string) inventory.SAPSystem {
		s := sapSystem("PRD", "mss", profile, "D00")
		s.Database.Host = host
		return s
	}
	tests := []struct {
		name       string
		sys        inventory.SAPSystem
		logins     []inventory.SAPDBLogin
		wantOK     bool
		wantDetail string
		wantScript []string
		wantInput  []string
	}{
		{name: "sql server, schema from the profile, server from the registry",
			sys: mss(map[string]string{"dbs/mss/schema": "prd"}, `SAPDB01\PRD`), logins: login("PRD", pw), wantOK: true,
			wantDetail: "6 components from prd.CVERS (schema dbs/mss/schema) via sqlcmd as VIGIL_RO",
			wantScript: []string{`-S 'SAPDB01\PRD' -d 'PRD' -U 'VIGIL_RO'`, "$env:SQLCMDPASSWORD = $pw"},
			wantInput:  []string{pw + "\n", "SELECT COMPONENT, RELEASE, EXTRELEASE, COMP_TYPE FROM [prd].[CVERS] ORDER BY COMPONENT\nGO\n"}},
		{name: "sql server, schema from the catalogue, database from the profile",
			sys: mss(map[string]string{"dbs/mss/dbname": "PRDDB"}, ""), logins: login("", pw), wantOK: true,
			wantDetail: "prd.CVERS (schema found in the catalogue)",
			wantScript: []string{`-S 'localhost' -d 'PRDDB'`}, wantInput: []string{"FROM [prd].[CVERS]"}},
		{name: "sql server login failed",
			sys: mss(nil, "SAPDB01"), logins: login("PRD", "wrong"), wantDetail: "sqlcmd as VIGIL_RO: Sqlcmd: Error: Microsoft ODBC Driver 17 for SQL Server : Login failed"},
		{name: "hana from a Windows application server",
			sys: func() inventory.SAPSystem {
				s := sapSystem("PRD", "hdb", map[string]string{"dbs/hdb/schema": "SAPHANADB"}, "D00")
				return s
			}(),
			logins: []inventory.SAPDBLogin{{SID: "PRD", Credential: &inventory.Credential{Username: "VIGIL_RO", Password: pw}, Address: "hana01:30015"}}, wantOK: true,
			wantDetail: "10 components from SAPHANADB.CVERS", wantScript: []string{`usr\sap\PRD\hdbclient\hdbsql.exe`, "$in | & $exe -j -a -x -F '|' -c ';'"},
			wantInput: []string{`\connect -n hana01:30015 -u VIGIL_RO -p ` + pw + ";"}},
		{name: "oracle is not read on Windows",
			sys: sapSystem("PRD", "ora", nil, "D00"), logins: login("PRD", pw), wantDetail: "supported for SQL Server and HANA on Windows hosts; PRD runs on Oracle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeWinDB{password: pw, outputs: outputs}
			systems := []inventory.SAPSystem{tt.sys}
			ReadSAPComponentTablesWindows(context.Background(), f, systems, tt.logins, nil)
			src := componentSource(systems[0])
			if src.Available != tt.wantOK || !strings.Contains(src.Detail, tt.wantDetail) {
				t.Fatalf("source = %+v, want available=%v with %q", src, tt.wantOK, tt.wantDetail)
			}
			for _, sc := range f.scripts {
				if strings.Contains(sc, pw) || strings.Contains(sc, "wrong") {
					t.Errorf("password in the script:\n%s", sc)
				}
			}
			last := func(xs []string) string {
				if len(xs) == 0 {
					return ""
				}
				return xs[len(xs)-1]
			}
			for _, w := range tt.wantScript {
				if !strings.Contains(last(f.scripts), w) {
					t.Errorf("script lacks %q:\n%s", w, last(f.scripts))
				}
			}
			for _, w := range tt.wantInput {
				if !strings.Contains(last(f.inputs), w) {
					t.Errorf("stdin %q lacks %q", last(f.inputs), w)
				}
			}
		})
	}
}
