package collect

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport"
)

// Reading the SAP component table. An ABAP system records its installed
// software components, their release and support-package level in the
// table CVERS (COMPONENT, RELEASE, EXTRELEASE, COMP_TYPE). sapcontrol's
// ABAPGetComponentList gives the same list without credentials when
// sapstartsrv lets the scan user ask; when a workspace supplies a read-only
// database login, the agent reads CVERS itself with the database's own
// command-line client on the host (hdbsql, isql, sqlplus), over the same
// session. The login travels on the client's standard input — never on a
// command line, which other users of the host can read in the process list —
// and the statements are fixed: a catalogue lookup for the schema and one
// SELECT of CVERS.

// SAPSourceComponentTable names the CVERS source in a system's Sources.
const SAPSourceComponentTable = "component table"

var (
	sapDBUserRE   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_#$.@-]{0,127}$`)
	sapDBSchemaRE = inventory.SAPDBSchemaRE
	// cvers* bound what one row may hold: component names such as
	// SAP_BASIS, ST-PI or /SAPAPO/APO (namespaced add-ons), releases such
	// as 750, 7.53, 2020 or 100_731.
	cversNameRE    = regexp.MustCompile(`^[A-Z0-9/][A-Z0-9_/-]{0,29}$`)
	cversReleaseRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,9}$`)
	cversLevelRE   = regexp.MustCompile(`^[A-Za-z0-9._-]{0,10}$`)
)

// sapDBClient is how the client of one database product is called.
type sapDBClient struct {
	product string
	tool    string
	// command starts the client on a Unix host, winCommand on a Windows
	// one (nil: not on that kind of host); every part was validated.
	command    func(sys *inventory.SAPSystem, l inventory.SAPDBLogin) (string, error)
	winCommand func(sys *inventory.SAPSystem, l inventory.SAPDBLogin) (string, error)
	// input is the client's stdin: the login, then the statements.
	input func(sys *inventory.SAPSystem, l inventory.SAPDBLogin, statements ...string) ([]byte, error)
	// schemaParam is the profile parameter naming the ABAP schema;
	// without it, schemaQuery lists the schemas holding CVERS, and without
	// that, defaultSchema is used.
	schemaParam   string
	schemaQuery   string
	defaultSchema string
	// keepSchemaCase: the database's schema names are case-sensitive as
	// written (SQL Server's binary collation); the others are upper case.
	keepSchemaCase bool
	table          func(sys *inventory.SAPSystem, schema string) string
}

const cversColumns = "COMPONENT, RELEASE, EXTRELEASE, COMP_TYPE"

var sapDBClients = map[string]sapDBClient{
	"hdb": {
		product: "HANA", tool: "hdbsql",
		command: func(sys *inventory.SAPSystem, _ inventory.SAPDBLogin) (string, error) {
			sid := sys.SID
			// -j no paging, -a no column names, -x no "n rows selected",
			// -F '|' between fields, -c ';' ends each statement of stdin.
			return "for c in /usr/sap/" + sid + "/hdbclient/hdbsql /usr/sap/hdbclient/hdbsql /hana/shared/" + sid + "/hdbclient/hdbsql /usr/sap/" + sid + "/HDB[0-9][0-9]/exe/hdbsql; do\n" +
				"  [ -x \"$c\" ] && exec \"$c\" -j -a -x -F '|' -c ';'\n" +
				"done\necho 'hdbsql not found in /usr/sap/" + sid + "/hdbclient, /usr/sap/hdbclient, /hana/shared/" + sid + "/hdbclient or /usr/sap/" + sid + "/HDBnn/exe' >&2; exit 127", nil
		},
		winCommand: func(sys *inventory.SAPSystem, _ inventory.SAPDBLogin) (string, error) {
			return psCommand("sap_db", sapWinHDBScript(sys.SID)), nil
		},
		input: func(sys *inventory.SAPSystem, l inventory.SAPDBLogin, statements ...string) ([]byte, error) {
			pw := l.Credential.Password
			// hdbsql splits \connect's arguments on blanks and its input
			// on ';': such a password cannot be passed this way.
			if strings.ContainsAny(pw, " \t\r\n\";\\") {
				return nil, errors.New("the password contains a blank, quote, semicolon or backslash, which hdbsql's \\connect cannot take; use another password for this login")
			}
			addr, db := l.Address, l.Database
			if addr == "" {
				return nil, errors.New("no HANA instance for " + sys.SID + " on this host: set the database address (host:port of the tenant's SQL port) on the login")
			}
			var b strings.Builder
			b.WriteString(`\connect -n ` + addr)
			if db != "" {
				b.WriteString(" -d " + db)
			}
			b.WriteString(" -u " + l.Credential.Username + " -p " + pw + ";\n")
			for _, s := range statements {
				b.WriteString(s + ";\n")
			}
			return []byte(b.String()), nil
		},
		schemaParam: "dbs/hdb/schema",
		schemaQuery: "SELECT SCHEMA_NAME FROM SYS.TABLES WHERE TABLE_NAME = 'CVERS'",
		table: func(_ *inventory.SAPSystem, schema string) string {
			return `"` + schema + `"."CVERS"`
		},
	},
	"syb": {
		product: "ASE", tool: "isql",
		command: func(sys *inventory.SAPSystem, l inventory.SAPDBLogin) (string, error) {
			server := l.Address
			if server == "" {
				server = sys.SID // SAP names the ASE server after the system
			}
			// Without -P, isql reads the password from the first line of
			// its input. -b: no column headers; -s '|' between columns.
			return "SYBASE=/sybase/" + sys.SID + "; export SYBASE\n" +
				"for c in $SYBASE/OCS-*/bin/isql; do\n" +
				"  [ -x \"$c\" ] && { LD_LIBRARY_PATH=${c%/bin/isql}/lib; export LD_LIBRARY_PATH; exec \"$c\" -U '" + l.Credential.Username + "' -S '" + server + "' -w 2000 -s '|' -b; }\n" +
				"done\necho 'isql not found in /sybase/" + sys.SID + "/OCS-*/bin' >&2; exit 127", nil
		},
		input: func(_ *inventory.SAPSystem, l inventory.SAPDBLogin, statements ...string) ([]byte, error) {
			var b strings.Builder
			b.WriteString(l.Credential.Password + "\n")
			for _, s := range statements {
				b.WriteString(s + "\ngo\n")
			}
			return []byte(b.String()), nil
		},
		schemaParam:   "dbs/syb/schema",
		defaultSchema: "SAPSR3",
		table: func(sys *inventory.SAPSystem, schema string) string {
			return sys.SID + "." + schema + ".CVERS" // database <SID>, owner SAPSR3
		},
	},
	"ora": {
		product: "Oracle", tool: "sqlplus",
		command: func(sys *inventory.SAPSystem, _ inventory.SAPDBLogin) (string, error) {
			sid := sys.SID
			return "for h in /oracle/" + sid + "/[0-9]*; do\n" +
				"  [ -x \"$h/bin/sqlplus\" ] || continue\n" +
				"  ORACLE_HOME=$h; ORACLE_SID=" + sid + "; export ORACLE_HOME ORACLE_SID\n" +
				"  [ -d /usr/sap/" + sid + "/SYS/profile/oracle ] && { TNS_ADMIN=/usr/sap/" + sid + "/SYS/profile/oracle; export TNS_ADMIN; }\n" +
				"  exec \"$h/bin/sqlplus\" -S -L /nolog\n" +
				"done\necho 'sqlplus not found in /oracle/" + sid + "/*/bin' >&2; exit 127", nil
		},
		input: func(sys *inventory.SAPSystem, l inventory.SAPDBLogin, statements ...string) ([]byte, error) {
			if strings.ContainsAny(l.Credential.Password, "\"\r\n") {
				return nil, errors.New("the password contains a double quote or a line break, which sqlplus cannot take; use another password for this login")
			}
			addr := l.Address
			if addr == "" {
				addr = sys.SID // SAP's tnsnames.ora names the system's database after it
			}
			var b strings.Builder
			b.WriteString("WHENEVER SQLERROR EXIT 1\n")
			b.WriteString("CONNECT " + l.Credential.Username + `/"` + l.Credential.Password + `"@` + addr + "\n")
			b.WriteString("SET PAGESIZE 0 FEEDBACK OFF HEADING OFF LINESIZE 400 TRIMOUT ON TAB OFF COLSEP '|'\n")
			for _, s := range statements {
				b.WriteString(s + ";\n")
			}
			b.WriteString("EXIT\n")
			return []byte(b.String()), nil
		},
		schemaParam: "dbs/ora/schema", // "SR3" for the owner SAPSR3
		schemaQuery: "SELECT OWNER FROM ALL_TABLES WHERE TABLE_NAME = 'CVERS'",
		table: func(_ *inventory.SAPSystem, schema string) string {
			return `"` + schema + `".CVERS`
		},
	},
}

func init() { sapDBClients["mss"] = sapMSSClient }

// sapDBLoginFor picks the login for a system: one for its SID, else one
// for every system.
func sapDBLoginFor(sid string, logins []inventory.SAPDBLogin) (inventory.SAPDBLogin, bool) {
	for _, l := range logins {
		if l.SID == sid {
			return l, true
		}
	}
	for _, l := range logins {
		if l.SID == "" {
			return l, true
		}
	}
	return inventory.SAPDBLogin{}, false
}

// ReadSAPComponentTables reads CVERS for each system a login applies to
// and records the outcome as the system's "component table" source, so
// the UI says for every system whether the table was read and why not.
// resolve turns a login's Vault references into secrets (nil: none). A
// failure touches only that system's source: discovery stands.
func ReadSAPComponentTables(ctx context.Context, r transport.Runner, systems []inventory.SAPSystem, logins []inventory.SAPDBLogin,
	resolve func(context.Context, *inventory.Credential) (*inventory.Credential, error)) {
	readSAPComponentTables(ctx, r, systems, logins, resolve, false)
}

// ReadSAPComponentTablesWindows is ReadSAPComponentTables for hosts
// reached over WinRM: PowerShell starts sqlcmd or hdbsql.exe
// (sap_dbread_win.go).
func ReadSAPComponentTablesWindows(ctx context.Context, r transport.Runner, systems []inventory.SAPSystem, logins []inventory.SAPDBLogin,
	resolve func(context.Context, *inventory.Credential) (*inventory.Credential, error)) {
	readSAPComponentTables(ctx, r, systems, logins, resolve, true)
}

func readSAPComponentTables(ctx context.Context, r transport.Runner, systems []inventory.SAPSystem, logins []inventory.SAPDBLogin,
	resolve func(context.Context, *inventory.Credential) (*inventory.Credential, error), windows bool) {
	for i := range systems {
		sys := &systems[i]
		addr, tenant := localHANA(sys, systems)
		detail, ok := readSAPComponentTable(ctx, r, sys, addr, tenant, logins, resolve, windows)
		setSAPSource(sys, inventory.SAPSource{Name: SAPSourceComponentTable, Available: ok, Detail: truncate(detail, 300)})
	}
}

// localHANA returns the SQL address and tenant of sys's HANA database when
// it runs on this host: an HDB instance of sys itself, or of the system
// named by the profile's dbs/hdb/dbname. SYSTEMDB's SQL port (3<NN>13)
// routes to the tenant.
func localHANA(sys *inventory.SAPSystem, systems []inventory.SAPSystem) (addr, tenant string) {
	tenant = sys.Profile["dbs/hdb/dbname"]
	if tenant == "" {
		tenant = sys.SID
	}
	for _, s := range systems {
		if s.SID != sys.SID && s.SID != tenant {
			continue
		}
		for _, in := range s.Instances {
			if in.Type == "hana" && in.Number != "" {
				return "localhost:3" + in.Number + "13", tenant
			}
		}
	}
	return "", ""
}

func readSAPComponentTable(ctx context.Context, r transport.Runner, sys *inventory.SAPSystem, hanaAddr, hanaTenant string,
	logins []inventory.SAPDBLogin, resolve func(context.Context, *inventory.Credential) (*inventory.Credential, error), windows bool) (string, bool) {
	l, ok := sapDBLoginFor(sys.SID, logins)
	if (!ok || l.SID == "") && !hasABAPInstance(sys) {
		return "no ABAP instance of " + sys.SID + " on this host (CVERS is an ABAP table); add a login for " + sys.SID + " to read it anyway", false
	}
	if !ok {
		return "no database login for " + sys.SID + " in the workspace (Settings → SAP); components come from sapcontrol, the kernel and the database version", false
	}
	if err := l.Validate(); err != nil {
		return "database login: " + err.Error(), false
	}
	if sys.Database == nil || sys.Database.Type == "" {
		return "the database of " + sys.SID + " is unknown (no dbms/type in DEFAULT.PFL)", false
	}
	client, ok := sapDBClients[sys.Database.Type]
	command := client.command
	if windows {
		command = client.winCommand
	}
	if !ok || command == nil {
		supported := "HANA, ASE and Oracle on Linux and Unix hosts"
		if windows {
			supported = "SQL Server and HANA on Windows hosts"
		}
		return "reading the component table is supported for " + supported + "; " + sys.SID + " runs on " + sys.Database.Product, false
	}
	ir, ok := r.(transport.InputRunner)
	if !ok {
		return "this connection cannot pass a login on a program's standard input", false
	}
	cred := l.Credential
	if resolve != nil && cred != nil {
		c, err := resolve(ctx, cred)
		if err != nil {
			return "database login: " + err.Error(), false
		}
		cred = c
	}
	if cred == nil || cred.Username == "" || cred.Password == "" {
		return "the database login has no username or password", false
	}
	if !sapDBUserRE.MatchString(cred.Username) {
		return fmt.Sprintf("database user %q: letters, digits and _ # $ . @ - only", cred.Username), false
	}
	if strings.ContainsAny(cred.Password, "\x00\r\n") {
		return "the database password contains a line break", false
	}
	l.Credential = cred
	if sys.Database.Type == "hdb" && l.Address == "" && hanaAddr != "" {
		l.Address = hanaAddr
		if l.Database == "" {
			l.Database = hanaTenant
		}
	}
	cmd, err := command(sys, l)
	if err != nil {
		return client.tool + ": " + err.Error(), false
	}
	run := func(statement string) ([]byte, error) {
		in, err := client.input(sys, l, statement)
		if err != nil {
			return nil, err
		}
		out, err := ir.RunInput(ctx, cmd, in)
		if err != nil {
			var exit *transport.ExitError
			if !errors.As(err, &exit) {
				return nil, err
			}
			// The client's own message says more than its exit status.
			if msg := sapDBError(out); msg != "" {
				return nil, errors.New(msg)
			}
			return nil, fmt.Errorf("%s: %w", client.tool, err)
		}
		if msg := sapDBError(out); msg != "" {
			return nil, errors.New(msg)
		}
		return out, nil
	}
	scrub := func(err error) string {
		// A client may echo its input in an error; the password stays here.
		return strings.ReplaceAll(err.Error(), cred.Password, "***")
	}
	schema, how := l.Schema, "configured"
	if schema == "" && client.schemaParam != "" {
		schema, how = profileSchema(sys.Profile[client.schemaParam], client.keepSchemaCase), client.schemaParam
	}
	if !client.keepSchemaCase {
		schema = strings.ToUpper(schema)
	}
	if schema == "" {
		schema, how = client.defaultSchema, "SAP default"
		if client.schemaQuery != "" {
			out, err := run(client.schemaQuery)
			if err != nil {
				return client.tool + " as " + cred.Username + ": " + scrub(err), false
			}
			schemas := parseSchemaList(out, client.keepSchemaCase)
			if len(schemas) == 0 {
				return client.tool + " as " + cred.Username + ": no schema with a CVERS table is visible to this user (grant it SELECT on the ABAP schema's CVERS)", false
			}
			schema, how = pickSAPSchema(sys.SID, schemas), "found in the catalogue"
		}
	}
	out, err := run("SELECT " + cversColumns + " FROM " + client.table(sys, schema) + " ORDER BY COMPONENT")
	if err != nil {
		return client.tool + " as " + cred.Username + ": " + scrub(err), false
	}
	comps, err := ParseCVERS(out)
	if err != nil {
		return client.tool + " as " + cred.Username + ": " + scrub(err), false
	}
	source := "CVERS (" + client.tool + ")"
	for i := range comps {
		comps[i].Source = source
	}
	mergeCVERS(sys, comps)
	return fmt.Sprintf("%d components from %s.CVERS (schema %s) via %s as %s", len(comps), schema, how, client.tool, cred.Username), true
}

// profileSchema turns a dbs/*/schema value into the schema's name: Oracle
// profiles give the suffix ("SR3" for SAPSR3), HANA and ASE the full name,
// SQL Server the name in its own case (keepCase: "prd").
func profileSchema(v string, keepCase bool) string {
	v = strings.TrimSpace(v)
	if v == "" || !sapDBSchemaRE.MatchString(v) {
		return ""
	}
	if keepCase {
		return v
	}
	v = strings.ToUpper(v)
	if len(v) <= 3 {
		v = "SAP" + v
	}
	return v
}

func hasABAPInstance(sys *inventory.SAPSystem) bool {
	for _, in := range sys.Instances {
		if in.Type == "abap" {
			return true
		}
	}
	return false
}

// mergeCVERS puts the table's rows in place of the sapcontrol list's rows
// for the same components: the table is what the system itself records.
func mergeCVERS(sys *inventory.SAPSystem, comps []inventory.SAPComponent) {
	have := make(map[string]bool, len(comps))
	for _, c := range comps {
		have[c.Name] = true
	}
	kept := sys.Components[:0]
	for _, c := range sys.Components {
		if have[c.Name] && strings.HasPrefix(c.Source, "sapcontrol") {
			continue
		}
		kept = append(kept, c)
	}
	sys.Components = append(kept, comps...)
}

func setSAPSource(sys *inventory.SAPSystem, src inventory.SAPSource) {
	for i := range sys.Sources {
		if sys.Sources[i].Name == src.Name {
			sys.Sources[i] = src
			return
		}
	}
	sys.Sources = append(sys.Sources, src)
}

// sapDBErrorRE matches the error lines of the clients: hdbsql's "* 10:
// authentication failed SQLSTATE: 28000", isql's and sqlcmd's "Msg 4002,
// Level 14, State 1...", sqlplus's "ORA-01017: ..." and "SP2-0306: ...",
// sqlcmd's "Sqlcmd: Error: ...".
var sapDBErrorRE = regexp.MustCompile(`^(\* -?\d+: .*|Msg \d+, Level \d+, State \d+.*|ORA-\d{5}: .*|SP2-\d{4}: .*|CT-LIBRARY error:.*|Sqlcmd: Error: .*)$`)

// sapDBError returns the client's first error message in out, with the
// line after it when that line explains it (isql prints the text on the
// next line).
func sapDBError(out []byte) string {
	lines := strings.Split(strings.ReplaceAll(string(out), "\r\n", "\n"), "\n")
	for i, ln := range lines {
		ln = strings.TrimSpace(ln)
		if !sapDBErrorRE.MatchString(ln) {
			continue
		}
		if strings.HasPrefix(ln, "Msg ") || strings.HasPrefix(ln, "CT-LIBRARY") {
			// The text follows on the next line, after isql's "Server 'X':".
			for _, next := range lines[i+1:] {
				next = strings.TrimSpace(next)
				if next == "" || strings.HasPrefix(next, "Server '") {
					continue
				}
				ln += " " + next
				break
			}
		}
		return truncate(ln, 240)
	}
	return ""
}

// splitSAPDBRow splits one output line of any of the clients into trimmed
// fields: hdbsql quotes strings ("SAP_BASIS"|"750"), isql pads and frames
// columns ( SAP_BASIS | 750 |), sqlplus pads them.
func splitSAPDBRow(line string) []string {
	line = strings.TrimSpace(line)
	line = strings.TrimPrefix(line, "|")
	line = strings.TrimSuffix(line, "|")
	f := strings.Split(line, "|")
	for i := range f {
		s := strings.TrimSpace(f[i])
		if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
			s = strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
		}
		f[i] = strings.TrimSpace(s)
	}
	return f
}

// ParseCVERS reads the rows of "SELECT COMPONENT, RELEASE, EXTRELEASE,
// COMP_TYPE FROM CVERS" as any of the clients prints them. Headers,
// dashes and row counts are skipped; a line that is not a row of the right
// shape is skipped too, but an output without one row is an error (an
// ABAP system always has SAP_BASIS), as is a client error message.
func ParseCVERS(out []byte) ([]inventory.SAPComponent, error) {
	if msg := sapDBError(out); msg != "" {
		return nil, fmt.Errorf("parse CVERS: %s", msg)
	}
	var comps []inventory.SAPComponent
	seen := map[string]bool{}
	for _, ln := range strings.Split(string(out), "\n") {
		f := splitSAPDBRow(ln)
		if len(f) < 3 || len(f) > 4 {
			continue
		}
		name, rel, level := strings.ToUpper(f[0]), f[1], f[2]
		if name == "COMPONENT" || !cversNameRE.MatchString(name) || !cversReleaseRE.MatchString(rel) || !cversLevelRE.MatchString(level) {
			continue
		}
		if seen[name] {
			continue // CVERS is keyed by component; a repeat is a client artefact
		}
		seen[name] = true
		// "0000" is a level too: no support package imported yet.
		comps = append(comps, inventory.SAPComponent{Name: name, Release: rel, SPLevel: level})
		if len(comps) >= inventory.MaxSAPComponents {
			break
		}
	}
	if len(comps) == 0 {
		return nil, errors.New("parse CVERS: no component rows (the table is empty or not readable by this user)")
	}
	return comps, nil
}

// parseSchemaList reads the one-column answer of the schema lookup.
func parseSchemaList(out []byte, keepCase bool) []string {
	var s []string
	for _, ln := range strings.Split(string(out), "\n") {
		f := splitSAPDBRow(ln)
		if len(f) != 1 {
			continue
		}
		name := f[0]
		if !keepCase {
			name = strings.ToUpper(name)
		}
		if u := strings.ToUpper(name); u == "SCHEMA_NAME" || u == "OWNER" || !sapDBSchemaRE.MatchString(name) {
			continue
		}
		s = append(s, name)
	}
	sort.Strings(s)
	return s
}

// pickSAPSchema chooses the ABAP schema among those holding a CVERS: the
// names SAP installations use, in the order that names this system best.
func pickSAPSchema(sid string, schemas []string) string {
	for _, want := range []string{"SAP" + sid, strings.ToLower(sid), "SAPHANADB", "SAPABAP1", "SAPSR3", "dbo"} {
		for _, s := range schemas {
			if s == want {
				return s
			}
		}
	}
	return schemas[0]
}
