package collect

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport"
)

// The inputs below are constructed (testdata/sap/README.md): service
// command lines as Windows stores them in ImagePath, registry output as
// the Windows script prints it.

func TestParseSAPWinServices(t *testing.T) {
	tests := []struct {
		name, in string
		want     []SAPWinService
		err      string
	}{
		{"quoted exe, UNC pf=", `SAPPRD_00 # "E:\usr\sap\PRD\D00\exe\sapstartsrv.exe" pf=\\SAPPRD01\sapmnt\PRD\SYS\profile\PRD_D00_SAPPRD01`,
			[]SAPWinService{{Name: "SAPPRD_00", SID: "PRD", Number: "00", Instance: "D00", Host: "SAPPRD01",
				Profile: `\\SAPPRD01\sapmnt\PRD\SYS\profile\PRD_D00_SAPPRD01`, Exe: `E:\usr\sap\PRD\D00\exe\sapstartsrv.exe`}}, ""},
		{"unquoted exe, drive pf=, trailing -D", `SAPQAS_10 # F:\usr\sap\QAS\D10\exe\sapstartsrv.exe pf=F:\usr\sap\QAS\SYS\profile\QAS_D10_sapqas01 -D`,
			[]SAPWinService{{Name: "SAPQAS_10", SID: "QAS", Number: "10", Instance: "D10", Host: "sapqas01",
				Profile: `F:\usr\sap\QAS\SYS\profile\QAS_D10_sapqas01`, Exe: `F:\usr\sap\QAS\D10\exe\sapstartsrv.exe`}}, ""},
		{"quoted pf= with a blank", `SAPPRD_01 # "E:\usr\sap\PRD\ASCS01\exe\sapstartsrv.exe" pf="\\sap prd\sapmnt\PRD\SYS\profile\PRD_ASCS01_sapascs" -D`,
			[]SAPWinService{{Name: "SAPPRD_01", SID: "PRD", Number: "01", Instance: "ASCS01", Host: "sapascs",
				Profile: `\\sap prd\sapmnt\PRD\SYS\profile\PRD_ASCS01_sapascs`, Exe: `E:\usr\sap\PRD\ASCS01\exe\sapstartsrv.exe`}}, ""},
		{"unquoted exe under Program Files", `SAPDAA_98 # C:\Program Files\SAP\DAA\SMDA98\exe\sapstartsrv.exe pf=C:\usr\sap\DAA\SYS\profile\DAA_SMDA98_host1`,
			[]SAPWinService{{Name: "SAPDAA_98", SID: "DAA", Number: "98", Instance: "SMDA98", Host: "host1",
				Profile: `C:\usr\sap\DAA\SYS\profile\DAA_SMDA98_host1`, Exe: `C:\Program Files\SAP\DAA\SMDA98\exe\sapstartsrv.exe`}}, ""},
		{"missing pf=: instance from the exe directory", `SAPPRD_02 # "e:\USR\SAP\PRD\ERS02\EXE\sapstartsrv.exe" -D`,
			[]SAPWinService{{Name: "SAPPRD_02", SID: "PRD", Number: "02", Instance: "ERS02", Exe: `e:\USR\SAP\PRD\ERS02\EXE\sapstartsrv.exe`}}, ""},
		{"missing pf=, exe elsewhere: no instance", `SAPPRD_03 # "D:\sapstartsrv.exe"`,
			[]SAPWinService{{Name: "SAPPRD_03", SID: "PRD", Number: "03", Exe: `D:\sapstartsrv.exe`}}, ""},
		{"profile of another SID or number is not trusted", `SAPPRD_04 # "E:\usr\sap\PRD\D04\exe\sapstartsrv.exe" pf=\\h\sapmnt\QAS\SYS\profile\QAS_D05_h`,
			[]SAPWinService{{Name: "SAPPRD_04", SID: "PRD", Number: "04", Instance: "D04", Profile: `\\h\sapmnt\QAS\SYS\profile\QAS_D05_h`,
				Exe: `E:\usr\sap\PRD\D04\exe\sapstartsrv.exe`}}, ""},
		{"xpf= is not pf=", `SAPPRD_05 # "E:\x\sapstartsrv.exe" xpf=\\h\PRD_D05_h`,
			[]SAPWinService{{Name: "SAPPRD_05", SID: "PRD", Number: "05", Exe: `E:\x\sapstartsrv.exe`}}, ""},
		{"registry key access denied", "SAPQAS_11 ! Requested registry access is not allowed.",
			[]SAPWinService{{Name: "SAPQAS_11", SID: "QAS", Number: "11", Error: "Requested registry access is not allowed."}}, ""},
		{"names that are not SAP<SID>_<NN>, duplicates, CRLF",
			"SAPprd_00 # x\r\nSAPHostControl # \"C:\\Program Files\\SAP\\hostctrl\\exe\\sapstartsrv.exe\" pf=host_profile\r\n" +
				"SAPPRD_0 # x\r\nSAPPRD_00 bogus\r\nSAPPRD_00 # \"E:\\a.exe\" pf=PRD_D00_h\r\nSAPPRD_00 # \"E:\\b.exe\"\r\n",
			[]SAPWinService{{Name: "SAPPRD_00", SID: "PRD", Number: "00", Instance: "D00", Host: "h", Profile: "PRD_D00_h", Exe: `E:\a.exe`}}, ""},
		{"list not readable", "FAIL: Requested registry access is not allowed.\n", nil, "FAIL: Requested registry access"},
		{"empty list", "", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSAPWinServices([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseSAPRegistry(t *testing.T) {
	tests := []struct {
		name, in string
		want     SAPRegistry
	}{
		{"one SID, allow-listed names only, any case",
			"[HKLM\\SOFTWARE\\SAP]\n[HKLM\\SOFTWARE\\SAP\\PRD\\Environment]\nSAPSYSTEMNAME=PRD\nDBMS_TYPE=mss\nMSSQL_SERVER=SAPPRD01\n" +
				"dbs_mss_password=x\nSAPLOGONPWD=y\nDIR_TRANS=\\\\h\\trans\nPath=C:\\x\n",
			SAPRegistry{Roots: map[string]string{`HKLM\SOFTWARE\SAP`: ""}, Systems: []SAPRegistryEnv{{SID: "PRD",
				Keys:   []string{`HKLM\SOFTWARE\SAP\PRD\Environment`},
				Values: map[string]string{"SAPSYSTEMNAME": "PRD", "dbms_type": "mss", "MSSQL_SERVER": "SAPPRD01"}}}}},
		{"Environment key access denied, another missing",
			"[HKLM\\SOFTWARE\\SAP]\n[HKLM\\SOFTWARE\\SAP\\DEV\\Environment]\n!unreadable: Requested registry access is not allowed.\n" +
				"[HKLM\\SOFTWARE\\SAP\\QAS\\Environment]\n!missing\n[HKLM\\SOFTWARE\\WOW6432Node\\SAP]\n!missing\n",
			SAPRegistry{Roots: map[string]string{`HKLM\SOFTWARE\SAP`: "", `HKLM\SOFTWARE\WOW6432Node\SAP`: "missing"}, Systems: []SAPRegistryEnv{
				{SID: "DEV", Values: map[string]string{}, Errors: []string{`HKLM\SOFTWARE\SAP\DEV\Environment: Requested registry access is not allowed.`}},
				{SID: "QAS", Values: map[string]string{}, Errors: []string{`HKLM\SOFTWARE\SAP\QAS\Environment: missing`}}}}},
		{"root key access denied",
			"[HKLM\\SOFTWARE\\SAP]\n!unreadable: Requested registry access is not allowed.\n",
			SAPRegistry{Roots: map[string]string{`HKLM\SOFTWARE\SAP`: "Requested registry access is not allowed."}}},
		{"WOW6432Node duplicate: the 64-bit key wins, the 32-bit view fills in, whatever the order",
			"[HKLM\\SOFTWARE\\WOW6432Node\\SAP]\n[HKLM\\SOFTWARE\\WOW6432Node\\SAP\\PRD\\Environment]\nSAPLOCALHOST=old\nJAVA_HOME=C:\\j\n" +
				"[HKLM\\SOFTWARE\\SAP]\n[HKLM\\SOFTWARE\\SAP\\PRD\\Environment]\nSAPLOCALHOST=new\n",
			SAPRegistry{Roots: map[string]string{`HKLM\SOFTWARE\SAP`: "", `HKLM\SOFTWARE\WOW6432Node\SAP`: ""}, Systems: []SAPRegistryEnv{{SID: "PRD",
				Keys:   []string{`HKLM\SOFTWARE\SAP\PRD\Environment`, `HKLM\SOFTWARE\WOW6432Node\SAP\PRD\Environment`},
				Values: map[string]string{"SAPLOCALHOST": "new", "JAVA_HOME": `C:\j`}}}}},
		{"WOW6432Node read where the 64-bit key is denied",
			"[HKLM\\SOFTWARE\\SAP\\PRD\\Environment]\n!unreadable: denied\n[HKLM\\SOFTWARE\\WOW6432Node\\SAP\\PRD\\Environment]\ndbms_type=ora\n",
			SAPRegistry{Roots: map[string]string{}, Systems: []SAPRegistryEnv{{SID: "PRD",
				Keys: []string{`HKLM\SOFTWARE\WOW6432Node\SAP\PRD\Environment`}, Values: map[string]string{"dbms_type": "ora"},
				Errors: []string{`HKLM\SOFTWARE\SAP\PRD\Environment: denied`}}}}},
		{"keys that are not <root>\\<SID>\\Environment are ignored",
			"[HKLM\\SOFTWARE\\SAP\\prd\\Environment]\nSAPSYSTEMNAME=prd\n[HKLM\\SOFTWARE\\SAP\\PRD\\Other]\nSAPSYSTEMNAME=x\n" +
				"[HKLM\\SOFTWARE\\SAPX\\PRD\\Environment]\nSAPSYSTEMNAME=y\n[HKLM\\SOFTWARE\\SAP\\PRD1\\Environment]\nSAPSYSTEMNAME=z\n" +
				"SAPSYSTEMNAME=before any header\n[HKCU\\SOFTWARE\\SAP]\n!missing\n",
			SAPRegistry{Roots: map[string]string{}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseSAPRegistry([]byte(tc.in))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func sourcesByName(s inventory.SAPSystem) map[string]inventory.SAPSource {
	out := map[string]inventory.SAPSource{}
	for _, src := range s.Sources {
		out[src.Name] = src
	}
	return out
}

// TestParseSAPWindowsRegistry reads the constructed output of the Windows
// script on a host where WMI was denied and the registry answered: PRD
// lives in E:\usr\sap, QAS (F:\usr\sap, a drive the script did not search)
// is known only from its service and Environment key.
func TestParseSAPWindowsRegistry(t *testing.T) {
	systems, err := ParseSAP(sapFixture(t, "discovery_windows_registry.txt"))
	if err != nil || len(systems) != 2 || systems[0].SID != "PRD" || systems[1].SID != "QAS" {
		t.Fatalf("%+v %v", systems, err)
	}
	prd, qas := systems[0], systems[1]

	want := []inventory.SAPInstance{
		{Name: "ASCS01", Number: "01", Type: "ascs", Host: "SAPPRD01", Registered: true,
			Profile: `\\SAPPRD01\sapmnt\PRD\SYS\profile\PRD_ASCS01_SAPPRD01`},
		{Name: "D00", Number: "00", Type: "abap", Host: "SAPPRD01", Registered: true,
			Profile: "E:/usr/sap/PRD/SYS/profile/PRD_D00_SAPPRD01"},
	}
	if len(prd.Instances) != 2 {
		t.Fatalf("PRD instances %+v", prd.Instances)
	}
	for i, in := range prd.Instances {
		in.Kernel, in.Params = nil, nil
		if !reflect.DeepEqual(in, want[i]) {
			t.Errorf("PRD instance\n got %+v\nwant %+v", in, want[i])
		}
	}
	// DEFAULT.PFL names the database: the registry does not override it.
	if db := prd.Database; db == nil || db.Product != "MSSQL" || db.Source != "DEFAULT.PFL dbms/type" || db.Host != "SAPPRD01" {
		t.Errorf("PRD database %+v", prd.Database)
	}
	if prd.Kernel == nil || prd.Kernel.Release != "789" {
		t.Errorf("PRD kernel %+v", prd.Kernel)
	}

	if len(qas.Instances) != 1 {
		t.Fatalf("QAS instances %+v (SAPQAS_11's key was unreadable: no instance name)", qas.Instances)
	}
	wantQ := inventory.SAPInstance{Name: "D10", Number: "10", Type: "abap", Host: "SAPQAS01", Registered: true,
		Profile: `F:\usr\sap\QAS\SYS\profile\QAS_D10_SAPQAS01`}
	if !reflect.DeepEqual(qas.Instances[0], wantQ) {
		t.Errorf("QAS instance\n got %+v\nwant %+v", qas.Instances[0], wantQ)
	}
	wantDB := inventory.SAPDatabase{Product: "MSSQL", Type: "mss", Host: `SAPSQL02\QAS`, Source: "registry dbms_type"}
	if qas.Database == nil || *qas.Database != wantDB {
		t.Errorf("QAS database %+v", qas.Database)
	}
	if qas.Kernel != nil || qas.Transport != nil || len(qas.Components) != 0 || qas.Profile != nil {
		t.Errorf("QAS has more than the registry says: %+v", qas)
	}

	order := []string{SAPSourceProfiles, SAPSourceSAPServices, SAPSourceKernel, SAPSourceComponents, SAPSourceDatabase, SAPSourceTransport, SAPSourceRegistry}
	for _, s := range systems {
		if len(s.Sources) != len(order) {
			t.Fatalf("%s sources %+v", s.SID, s.Sources)
		}
		for i, src := range s.Sources {
			if src.Name != order[i] || src.Detail == "" {
				t.Errorf("%s source %d = %+v", s.SID, i, src)
			}
		}
	}
	ps, qs := sourcesByName(prd), sourcesByName(qas)
	for name, avail := range map[string]bool{SAPSourceProfiles: true, SAPSourceSAPServices: true, SAPSourceKernel: true,
		SAPSourceComponents: false, SAPSourceDatabase: false, SAPSourceTransport: true, SAPSourceRegistry: true} {
		if ps[name].Available != avail {
			t.Errorf("PRD %s = %+v, want available %v", name, ps[name], avail)
		}
	}
	for name, avail := range map[string]bool{SAPSourceProfiles: false, SAPSourceSAPServices: true, SAPSourceKernel: false,
		SAPSourceComponents: false, SAPSourceDatabase: false, SAPSourceTransport: false, SAPSourceRegistry: true} {
		if qs[name].Available != avail {
			t.Errorf("QAS %s = %+v, want available %v", name, qs[name], avail)
		}
	}
	svc := ps[SAPSourceSAPServices].Detail
	for _, w := range []string{"registry", "WMI: FAIL: Access denied", "SAPQAS_11"} {
		if !strings.Contains(svc, w) {
			t.Errorf("sapservices detail %q lacks %q", svc, w)
		}
	}
	if d := ps[SAPSourceRegistry].Detail; d != `HKLM\SOFTWARE\SAP\PRD\Environment (and WOW6432Node): SAPSYSTEMNAME, SAPLOCALHOST, SAPEXE, DIR_LIBRARY, dbms_type, dbs_mss_server, dbs_mss_schema, MSSQL_SERVER, MSSQL_DBNAME` {
		t.Errorf("PRD registry detail %q", d)
	}
	for _, name := range []string{SAPSourceProfiles, SAPSourceKernel, SAPSourceTransport} {
		if !strings.Contains(qs[name].Detail, "known from the Windows registry") {
			t.Errorf("QAS %s detail %q", name, qs[name].Detail)
		}
	}
}

// A host where neither WMI nor the Services key answered and \usr\sap was
// not found still reports the systems HKLM\SOFTWARE\SAP names, and says
// why the rest is missing.
func TestParseSAPWindowsRegistryOnly(t *testing.T) {
	out := "==> sapservices <==\nFAIL: Access denied\n==> winservices <==\nFAIL: Requested registry access is not allowed.\n" +
		"==> sapregistry <==\n[HKLM\\SOFTWARE\\SAP]\n[HKLM\\SOFTWARE\\SAP\\BWP\\Environment]\nSAPLOCALHOST=sapbwp\ndbms_type=db6\n" +
		"[HKLM\\SOFTWARE\\SAP\\SMP\\Environment]\n!unreadable: Requested registry access is not allowed.\n" +
		"[HKLM\\SOFTWARE\\WOW6432Node\\SAP]\n!missing\n==> usrsap (missing) <==\n"
	systems, err := ParseSAP([]byte(out))
	if err != nil || len(systems) != 2 || systems[0].SID != "BWP" || systems[1].SID != "SMP" {
		t.Fatalf("%+v %v", systems, err)
	}
	bwp, smp := sourcesByName(systems[0]), sourcesByName(systems[1])
	if db := systems[0].Database; db == nil || db.Product != "Db2" || db.Host != "" {
		t.Errorf("BWP database %+v", db)
	}
	if s := bwp[SAPSourceSAPServices]; s.Available || !strings.Contains(s.Detail, "WMI: FAIL") || !strings.Contains(s.Detail, "registry: FAIL") {
		t.Errorf("sapservices %+v", s)
	}
	if s := bwp[SAPSourceRegistry]; !s.Available {
		t.Errorf("BWP registry %+v", s)
	}
	if s := smp[SAPSourceRegistry]; s.Available || !strings.Contains(s.Detail, `HKLM\SOFTWARE\SAP\SMP\Environment: Requested registry access`) {
		t.Errorf("SMP registry %+v", s)
	}

	// A SID known from \usr\sap but not from the registry says which.
	out = "==> sapservices <==\n==> winservices <==\n==> sapregistry <==\n[HKLM\\SOFTWARE\\SAP]\n!unreadable: denied\n" +
		"==> usrsap <==\nPRD\n==> sid PRD <==\n"
	systems, err = ParseSAP([]byte(out))
	if err != nil || len(systems) != 1 {
		t.Fatalf("%+v %v", systems, err)
	}
	src := sourcesByName(systems[0])
	if s := src[SAPSourceRegistry]; s.Available || s.Detail != `HKLM\SOFTWARE\SAP not readable: denied` {
		t.Errorf("registry %+v", s)
	}
	if s := src[SAPSourceSAPServices]; !s.Available || s.Detail != `Windows services SAP<SID>_<NN> from registry (HKLM\SYSTEM\CurrentControlSet\Services) and WMI` {
		t.Errorf("sapservices %+v", s)
	}
	if s := src[SAPSourceProfiles]; strings.Contains(s.Detail, "registry") {
		t.Errorf("PRD has a directory: profiles %+v", s)
	}

	// Unix output never lists the registry.
	unix, err := ParseSAP([]byte("==> usrsap <==\nPRD\n==> sapservices <==\nLD_LIBRARY_PATH=/usr/sap/PRD/D00/exe; /usr/sap/PRD/D00/exe/sapstartsrv pf=/usr/sap/PRD/SYS/profile/PRD_D00_h -D -u prdadm\n==> sid PRD <==\n"))
	if err != nil || len(unix) != 1 || len(unix[0].Sources) != 6 || sourcesByName(unix[0])[SAPSourceSAPServices].Detail != "/usr/sap/sapservices" {
		t.Errorf("unix %+v %v", unix, err)
	}
}

// The script reads exactly the allow-listed Environment values, none of
// them secret-looking, from the keys named here, and falls back to the
// \usr\sap of a service only through checked names.
func TestSAPWindowsScriptRegistry(t *testing.T) {
	script, ok := transport.DecodePowerShell(SAPWindowsCommand())
	if !ok {
		t.Fatal("not an encoded PowerShell script")
	}
	m := regexp.MustCompile(`\$envNames = @\(([^)]*)\)`).FindStringSubmatch(script)
	if m == nil {
		t.Fatal("no $envNames in the script")
	}
	var names []string
	for _, n := range strings.Split(m[1], ",") {
		names = append(names, strings.Trim(strings.TrimSpace(n), "'"))
	}
	if !reflect.DeepEqual(names, sapRegistryEnvNames) {
		t.Errorf("script reads %v, parser keeps %v", names, sapRegistryEnvNames)
	}
	for _, n := range sapRegistryEnvNames {
		if sapRegistrySecretish.MatchString(n) || sapRegistryEnvName(strings.ToLower(n)) != n {
			t.Errorf("allow-listed name %q", n)
		}
	}
	for _, want := range []string{
		`'HKLM:\SYSTEM\CurrentControlSet\Services'`, `Get-ChildItem -LiteralPath $SK -Name`, `-Name ImagePath`,
		`@('SOFTWARE\SAP', 'SOFTWARE\WOW6432Node\SAP')`, `Get-ItemProperty -LiteralPath "HKLM:\$root\$sid\Environment"`,
		`-cmatch '^[A-Z][A-Z0-9]{2}$'`, `$svcRE = '^SAP[A-Z][A-Z0-9]{2}_\d\d$'`, `$Matches[1] -ceq $Matches[3]`,
		`'==> winservices <=='`, `'==> sapregistry <=='`, `'==> sapservices <=='`,
	} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %s", want)
		}
	}
	// Registry access is by -LiteralPath only (no wildcard expansion), and
	// never through a cmdlet that writes.
	for _, l := range strings.Split(script, "\n") {
		if strings.Contains(l, "HKLM:") && strings.Contains(l, "-Path ") {
			t.Errorf("registry path not literal: %s", l)
		}
	}
	if bad := regexp.MustCompile(`(?i)\b(set|new|remove|rename|clear|copy|move)-item`).FindString(script); bad != "" {
		t.Errorf("script contains %s", bad)
	}
}

// Seeds: testdata/fuzz/FuzzParseSAPRegistry/, cut from the constructed
// Windows fixture. Whatever the registry holds, no SID or instance escapes
// its pattern and no value outside the allow-list is kept.
func FuzzParseSAPRegistry(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		svcs, err := ParseSAPWinServices(out)
		if err == nil {
			for _, sv := range svcs {
				if "SAP"+sv.SID+"_"+sv.Number != sv.Name || !sidRE.MatchString(sv.SID) {
					t.Errorf("service %+v", sv)
				}
				if sv.Instance != "" && instanceNumber(sv.Instance) != sv.Number {
					t.Errorf("instance %+v", sv)
				}
			}
		}
		reg := ParseSAPRegistry(out)
		for _, e := range reg.Systems {
			if !sidRE.MatchString(e.SID) {
				t.Errorf("SID %q", e.SID)
			}
			for n, v := range e.Values {
				if sapRegistryEnvName(n) != n || len(v) > 1024+len("...") {
					t.Errorf("value %q = %q", n, v)
				}
			}
		}
	})
}
