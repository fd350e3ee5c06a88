package collect

import (
	"errors"
	"strings"

	"github.com/vigil-project/vigil/internal/inventory"
)

// The component table on Windows hosts: PowerShell over WinRM starts the
// database's client as the Unix shell does, and the login reaches it on
// stdin (WS-Management Send requests), never in the command line, which
// Windows records in process creation events. SAP on Windows runs on SQL
// Server (sqlcmd) or, for application servers of a HANA system, reaches
// HANA with hdbsql.exe.

// sapWinHDBScript finds hdbsql.exe in the SID's client directory on any
// drive's \usr\sap or the standalone client's default place, and passes
// it this command's whole input (\connect line and statements).
func sapWinHDBScript(sid string) string {
	return `$in = [Console]::In.ReadToEnd()
$exe = $null
foreach ($d in (Get-PSDrive -PSProvider FileSystem)) {
  $p = Join-Path $d.Root 'usr\sap\` + sid + `\hdbclient\hdbsql.exe'
  if (Test-Path -LiteralPath $p -PathType Leaf) { $exe = $p; break }
}
if (-not $exe) { foreach ($p in @("$env:ProgramFiles\sap\hdbclient\hdbsql.exe")) { if (Test-Path -LiteralPath $p -PathType Leaf) { $exe = $p; break } } }
if (-not $exe) { [Console]::Error.WriteLine('hdbsql.exe not found in \usr\sap\` + sid + `\hdbclient or ' + "$env:ProgramFiles\sap\hdbclient"); exit 127 }
$OutputEncoding = New-Object Text.UTF8Encoding $false
$in | & $exe -j -a -x -F '|' -c ';'
exit $LASTEXITCODE`
}

// sapWinMSSScript starts sqlcmd with the password from the first input
// line in SQLCMDPASSWORD (sqlcmd's documented way to take one without -P)
// and the rest of the input, the statements, on its stdin.
func sapWinMSSScript(server, database, user string) string {
	return `$pw = [Console]::In.ReadLine()
$sql = [Console]::In.ReadToEnd()
$exe = (Get-Command sqlcmd.exe -ErrorAction SilentlyContinue | Select-Object -First 1).Source
if (-not $exe) {
  $exe = Get-ChildItem -Path "$env:ProgramFiles\Microsoft SQL Server\*\Tools\Binn\SQLCMD.EXE", "$env:ProgramFiles\Microsoft SQL Server\Client SDK\ODBC\*\Tools\Binn\SQLCMD.EXE" -ErrorAction SilentlyContinue | Select-Object -First 1 -ExpandProperty FullName
}
if (-not $exe) { [Console]::Error.WriteLine('sqlcmd.exe not found in the PATH or under ' + "$env:ProgramFiles\Microsoft SQL Server"); exit 127 }
$env:SQLCMDPASSWORD = $pw
$sql | & $exe -S '` + server + `' -d '` + database + `' -U '` + user + `' -h -1 -W -s '|' -b
exit $LASTEXITCODE`
}

// mssTarget is where sqlcmd connects for sys: the login's address, else
// the SQL Server the profile or registry names, else this host; the
// database from the login, dbs/mss/dbname, else the SID.
func mssTarget(sys *inventory.SAPSystem, l inventory.SAPDBLogin) (server, database string, err error) {
	server, database = l.Address, l.Database
	if server == "" {
		server = sys.Profile["dbs/mss/server"]
	}
	if server == "" && sys.Database != nil {
		server = sys.Database.Host
	}
	if server == "" {
		server = "localhost"
	}
	if database == "" {
		database = sys.Profile["dbs/mss/dbname"]
	}
	if database == "" {
		database = sys.SID
	}
	// Values from the host pass the checks a saved login passes.
	if err := (inventory.SAPDBLogin{Address: server, Database: database}).Validate(); err != nil {
		return "", "", errors.New("the SQL Server the system names: " + err.Error())
	}
	return server, database, nil
}

var sapMSSClient = sapDBClient{
	product: "SQL Server", tool: "sqlcmd",
	winCommand: func(sys *inventory.SAPSystem, l inventory.SAPDBLogin) (string, error) {
		server, database, err := mssTarget(sys, l)
		if err != nil {
			return "", err
		}
		return psCommand("sap_db", sapWinMSSScript(server, database, l.Credential.Username)), nil
	},
	input: func(_ *inventory.SAPSystem, l inventory.SAPDBLogin, statements ...string) ([]byte, error) {
		var b strings.Builder
		b.WriteString(l.Credential.Password + "\n")
		b.WriteString("SET NOCOUNT ON\n")
		for _, s := range statements {
			b.WriteString(s + "\nGO\n")
		}
		return []byte(b.String()), nil
	},
	// SAP on SQL Server keeps the ABAP tables in a schema named after the
	// system in lower case (dbs/mss/schema), older systems in dbo.
	schemaParam:    "dbs/mss/schema",
	schemaQuery:    "SELECT SCHEMA_NAME(schema_id) FROM sys.tables WHERE name = 'CVERS'",
	keepSchemaCase: true,
	table: func(_ *inventory.SAPSystem, schema string) string {
		return "[" + schema + "].[CVERS]"
	},
}
