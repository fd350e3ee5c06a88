package collect

import (
	"errors"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/vigil-project/vigil/internal/inventory"
)

// Windows records its SAP systems twice in the registry, and the Windows
// discovery script reads both besides \usr\sap:
//
//   - the instance services, HKLM\SYSTEM\CurrentControlSet\Services\
//     SAP<SID>_<NN>, whose ImagePath is the sapstartsrv.exe command line
//     with pf=<instance profile>. Non-admin WinRM users are often denied
//     WMI (Win32_Service) while this key stays readable, so the script
//     prints both lists ("sapservices" from WMI, "winservices" from the
//     registry) and ParseSAP merges them by service name;
//   - the environment the SAP service starts an instance with,
//     HKLM\SOFTWARE\SAP\<SID>\Environment (and the 32-bit view under
//     WOW6432Node), printed as the "sapregistry" section. Only the values
//     named in sapRegistryEnvNames leave the host.
//
// A SID either names is a system even when no \usr\sap directory shows it.

// SAPSourceRegistry is the source of what HKLM\SOFTWARE\SAP\<SID>\Environment
// said; only systems on Windows hosts list it.
const SAPSourceRegistry = "registry"

// sapRegistryEnvNames are the Environment values the script reads, in the
// spelling reported (registry names are case-insensitive: DBMS_TYPE is
// dbms_type). None holds a secret; a name that looks like one is refused
// all the same. testdata/sap/README.md says which are documented.
var sapRegistryEnvNames = []string{"SAPSYSTEMNAME", "SAPLOCALHOST", "SAPDBHOST", "SAPEXE", "DIR_LIBRARY", "JAVA_HOME",
	"dbms_type", "dbs_mss_server", "dbs_mss_schema", "MSSQL_SERVER", "MSSQL_DBNAME"}

// sapRegistrySecretish names a registry value that may hold a credential.
var sapRegistrySecretish = regexp.MustCompile(`(?i)password|passwd|pwd|secret|credential|key`)

// sapRegistryEnvName returns the allow-listed spelling of a value name, or
// "" for a name that is not kept.
func sapRegistryEnvName(name string) string {
	if sapRegistrySecretish.MatchString(name) {
		return ""
	}
	for _, n := range sapRegistryEnvNames {
		if strings.EqualFold(n, name) {
			return n
		}
	}
	return ""
}

// SAPWinService is one SAP<SID>_<NN> Windows service as its registry key
// (or WMI) describes it.
type SAPWinService struct {
	Name     string // SAPPRD_00
	SID      string
	Number   string // NN of the name: the instance number
	Instance string // D00, ASCS01: from the pf= profile name, else the exe directory
	Host     string // the profile name's host part
	Profile  string // pf= as written: a drive or UNC path with backslashes
	Exe      string // the sapstartsrv.exe path, unquoted
	Error    string // why the key could not be read; nothing else is set then
}

var (
	sapServiceNameRE = regexp.MustCompile(`^SAP([A-Z][A-Z0-9]{2})_(\d\d)$`)
	sapExeDirRE      = regexp.MustCompile(`^[A-Za-z]:\\(?i:usr\\sap)\\([A-Z][A-Z0-9]{2})\\([A-Z]+\d\d)\\(?i:exe)\\`)
)

// ParseSAPWinServices reads the "winservices" section (and the Windows
// script's "sapservices" section, which has the same lines from WMI):
// "SAPPRD_00 # <ImagePath>" per service, "SAPPRD_00 ! <reason>" for a key
// that could not be read, or one "FAIL: <reason>" when the list itself
// could not be read. Lines whose name is not SAP<SID>_<NN> are skipped;
// a name appears once.
func ParseSAPWinServices(b []byte) ([]SAPWinService, error) {
	var out []SAPWinService
	seen := map[string]bool{}
	for _, l := range lines(string(b), false) {
		if strings.HasPrefix(l, "FAIL:") {
			return nil, errors.New(truncate(l, 200))
		}
		name, rest, _ := strings.Cut(l, " ")
		m := sapServiceNameRE.FindStringSubmatch(name)
		if m == nil || seen[name] {
			continue
		}
		sv := SAPWinService{Name: name, SID: m[1], Number: m[2]}
		switch {
		case strings.HasPrefix(rest, "# "):
			sv.parseImagePath(rest[2:])
		case strings.HasPrefix(rest, "! "):
			sv.Error = truncate(strings.TrimSpace(rest[2:]), 200)
		default:
			continue
		}
		seen[name] = true
		out = append(out, sv)
		if len(out) == 200 {
			break
		}
	}
	return out, nil
}

// parseImagePath reads a service command line: a quoted or unquoted
// sapstartsrv.exe path, then arguments among which pf=<profile> (itself
// quoted when it holds blanks). The instance is the profile name's when it
// belongs to the service's SID and number, else the exe directory's
// (<X>:\usr\sap\<SID>\<INSTANCE>\exe\).
func (sv *SAPWinService) parseImagePath(ip string) {
	ip = strings.TrimSpace(ip)
	var args string
	switch {
	case strings.HasPrefix(ip, `"`):
		exe, rest, _ := strings.Cut(ip[1:], `"`)
		sv.Exe, args = exe, rest
	case indexASCIIFold(ip, ".exe") >= 0:
		i := indexASCIIFold(ip, ".exe") + len(".exe")
		sv.Exe, args = ip[:i], ip[i:]
	default:
		sv.Exe, args, _ = strings.Cut(ip, " ")
	}
	sv.Exe = truncate(sv.Exe, 1024)
	sv.Profile = truncate(pfArgument(args), 1024)
	if sv.Profile != "" {
		parts := strings.SplitN(path.Base(strings.ReplaceAll(sv.Profile, `\`, "/")), "_", 3)
		if len(parts) >= 2 && parts[0] == sv.SID && instanceNumber(parts[1]) == sv.Number {
			sv.Instance = parts[1]
			if len(parts) == 3 {
				sv.Host = parts[2]
			}
			return
		}
	}
	if m := sapExeDirRE.FindStringSubmatch(sv.Exe); m != nil && m[1] == sv.SID && instanceNumber(m[2]) == sv.Number {
		sv.Instance = m[2]
	}
}

// pfArgument returns the value of a pf= argument, without quotes.
func pfArgument(args string) string {
	for rest := args; ; {
		i := indexASCIIFold(rest, "pf=")
		if i < 0 {
			return ""
		}
		if i > 0 && rest[i-1] != ' ' && rest[i-1] != '\t' && rest[i-1] != '"' {
			rest = rest[i+3:]
			continue
		}
		v := rest[i+3:]
		if strings.HasPrefix(v, `"`) {
			v, _, _ = strings.Cut(v[1:], `"`)
			return v
		}
		v, _, _ = strings.Cut(v, " ")
		return strings.Trim(v, `"';`)
	}
}

// SAPRegistry is the "sapregistry" section: the SAP environment of each
// SID under HKLM\SOFTWARE\SAP and HKLM\SOFTWARE\WOW6432Node\SAP.
type SAPRegistry struct {
	Systems []SAPRegistryEnv // by SID
	// Roots says, per root key read (HKLM\SOFTWARE\SAP, its WOW6432Node
	// twin), why it could not be listed: "" when it was, "missing" when
	// there is no such key.
	Roots map[string]string
}

// SAPRegistryEnv is one SID's Environment key; a SID under both roots is
// one entry, the 64-bit key's values first.
type SAPRegistryEnv struct {
	SID    string
	Keys   []string          // the Environment keys read
	Values map[string]string // allow-listed values by their sapRegistryEnvNames spelling
	Errors []string          // "<key>: <reason>" for each key that could not be read ("missing" for none)
}

// sapRegistryRoots are the root keys the script lists, 64-bit view first.
var sapRegistryRoots = []string{`HKLM\SOFTWARE\SAP`, `HKLM\SOFTWARE\WOW6432Node\SAP`}

// ParseSAPRegistry reads the "sapregistry" section: "[<key>]" header
// lines, each followed by the key's "NAME=value" lines, or by
// "!missing" or "!unreadable: <reason>" when it could not be read. Only
// root keys and <root>\<SID>\Environment keys are understood, only
// allow-listed names kept, values cut at 1 KiB. A SID under both roots
// is one entry: the 64-bit key's values win, the WOW6432Node key's fill in.
func ParseSAPRegistry(b []byte) SAPRegistry {
	reg := SAPRegistry{Roots: map[string]string{}}
	type key struct {
		name   string
		values map[string]string
		err    string
	}
	keys := map[string][]*key{} // by SID, in sapRegistryRoots order after sorting
	var cur *key
	var root, sid string
	for _, l := range lines(string(b), false) {
		if strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]") {
			cur = nil
			root, sid = sapRegistryKey(l[1 : len(l)-1])
			switch {
			case root == "":
			case sid == "":
				reg.Roots[root] = ""
			case keys[sid] == nil && len(keys) == 100:
			default:
				cur = &key{name: l[1 : len(l)-1], values: map[string]string{}}
				keys[sid] = append(keys[sid], cur)
			}
			continue
		}
		if reason, ok := strings.CutPrefix(l, "!"); ok {
			reason = truncate(strings.TrimSpace(strings.TrimPrefix(reason, "unreadable:")), 200)
			if cur != nil {
				cur.err = reason
			} else if root != "" && sid == "" {
				reg.Roots[root] = reason
			}
			continue
		}
		name, value, ok := strings.Cut(l, "=")
		if !ok || cur == nil {
			continue
		}
		if n := sapRegistryEnvName(strings.TrimSpace(name)); n != "" {
			cur.values[n] = truncate(strings.TrimSpace(value), 1024)
		}
	}
	for sid, ks := range keys {
		sort.SliceStable(ks, func(i, j int) bool { return !isWOW(ks[i].name) && isWOW(ks[j].name) })
		e := SAPRegistryEnv{SID: sid, Values: map[string]string{}}
		for _, k := range ks {
			if k.err != "" {
				e.Errors = append(e.Errors, truncate(k.name+": "+k.err, 200))
				continue
			}
			e.Keys = append(e.Keys, k.name)
			for n, v := range k.values {
				if _, dup := e.Values[n]; !dup {
					e.Values[n] = v
				}
			}
		}
		reg.Systems = append(reg.Systems, e)
	}
	sort.Slice(reg.Systems, func(i, j int) bool { return reg.Systems[i].SID < reg.Systems[j].SID })
	return reg
}

func isWOW(key string) bool { return strings.Contains(strings.ToUpper(key), `\WOW6432NODE\`) }

// sapRegistryKey splits a header into its root and SID: a root alone, or
// <root>\<SID>\Environment. Anything else returns "", "".
func sapRegistryKey(key string) (root, sid string) {
	for _, r := range sapRegistryRoots {
		if strings.EqualFold(key, r) {
			return r, ""
		}
		if len(key) <= len(r) || !strings.EqualFold(key[:len(r)], r) || key[len(r)] != '\\' {
			continue
		}
		s, env, ok := strings.Cut(key[len(r)+1:], `\`)
		if ok && sidRE.MatchString(s) && strings.EqualFold(env, "Environment") {
			return r, s
		}
	}
	return "", ""
}

func (r SAPRegistry) system(sid string) (SAPRegistryEnv, bool) {
	for _, e := range r.Systems {
		if e.SID == sid {
			return e, true
		}
	}
	return SAPRegistryEnv{}, false
}

// sapWinOutput gathers the sections only the Windows script prints.
type sapWinOutput struct {
	windows          bool // a winservices or sapregistry section: the output is the Windows script's
	wmi, reg         []SAPWinService
	wmiRead, regRead bool
	wmiErr, regErr   string
	env              SAPRegistry
	envRead          bool
}

// add takes a Windows-only section; false for any other.
func (w *sapWinOutput) add(name, content string) bool {
	switch name {
	case "winservices":
		svcs, err := ParseSAPWinServices([]byte(content))
		if err != nil {
			w.regErr = err.Error()
		} else {
			w.reg, w.regRead = svcs, true
		}
	case "sapregistry":
		w.env, w.envRead = ParseSAPRegistry([]byte(content)), true
	default:
		return false
	}
	w.windows = true
	return true
}

// addWMI reads the sapservices section as the Windows script prints it;
// on a Unix host it finds no service and is never used.
func (w *sapWinOutput) addWMI(content string) {
	svcs, err := ParseSAPWinServices([]byte(content))
	if err != nil {
		w.wmiErr = err.Error()
		return
	}
	w.wmi, w.wmiRead = svcs, true
}

// services merges the registry's and WMI's lists by service name, the
// registry's entry first; a key that could not be read gives way to WMI's.
func (w *sapWinOutput) services() ([]SAPService, bool) {
	var out []SAPService
	seen := map[string]bool{}
	for _, list := range [][]SAPWinService{w.reg, w.wmi} {
		for _, sv := range list {
			if sv.Error != "" || seen[sv.Name] {
				continue
			}
			seen[sv.Name] = true
			out = append(out, SAPService{SID: sv.SID, Instance: sv.Instance, Host: sv.Host, Profile: sv.Profile})
		}
	}
	return out, w.regRead || w.wmiRead
}

// sids are the SIDs the registry names: Environment keys and services,
// including services whose key could not be read.
func (w *sapWinOutput) sids() []string {
	var out []string
	for _, e := range w.env.Systems {
		out = append(out, e.SID)
	}
	for _, list := range [][]SAPWinService{w.reg, w.wmi} {
		for _, sv := range list {
			out = append(out, sv.SID)
		}
	}
	return out
}

// servicesSource says where a Windows host's list of SAP services came
// from, in place of /usr/sap/sapservices.
func (w *sapWinOutput) servicesSource() inventory.SAPSource {
	var from, failed []string
	if w.regRead {
		from = append(from, `registry (HKLM\SYSTEM\CurrentControlSet\Services)`)
	} else if w.regErr != "" {
		failed = append(failed, "registry: "+w.regErr)
	}
	if w.wmiRead {
		from = append(from, "WMI")
	} else if w.wmiErr != "" {
		failed = append(failed, "WMI: "+w.wmiErr)
	}
	var denied []string
	for _, sv := range w.reg {
		if sv.Error != "" {
			denied = append(denied, sv.Name)
		}
	}
	detail := "Windows services SAP<SID>_<NN> from " + strings.Join(from, " and ")
	if len(from) == 0 {
		detail = "Windows services unreadable"
	}
	if len(failed) > 0 {
		detail += "; " + strings.Join(failed, "; ")
	}
	if len(denied) > 0 {
		detail += "; keys not readable: " + strings.Join(denied, ", ")
	}
	return inventory.SAPSource{Name: SAPSourceSAPServices, Available: len(from) > 0, Detail: truncate(detail, 200)}
}

// registrySource says what HKLM\SOFTWARE\SAP told about one SID.
func (w *sapWinOutput) registrySource(sid string) inventory.SAPSource {
	src := inventory.SAPSource{Name: SAPSourceRegistry}
	e, ok := w.env.system(sid)
	switch {
	case ok && len(e.Keys) > 0:
		var names []string
		for _, n := range sapRegistryEnvNames {
			if _, has := e.Values[n]; has {
				names = append(names, n)
			}
		}
		src.Available = true
		src.Detail = e.Keys[0]
		if len(e.Keys) > 1 {
			src.Detail += " (and WOW6432Node)"
		}
		src.Detail += ": " + strings.Join(names, ", ")
	case ok:
		src.Detail = strings.Join(e.Errors, "; ")
	case !w.envRead:
		src.Detail = `HKLM\SOFTWARE\SAP not read`
	default:
		var why []string
		for _, r := range sapRegistryRoots {
			if reason, listed := w.env.Roots[r]; listed && reason != "" && reason != "missing" {
				why = append(why, r+" not readable: "+reason)
			}
		}
		src.Detail = `no HKLM\SOFTWARE\SAP\` + sid + ` key`
		if len(why) > 0 {
			src.Detail = strings.Join(why, "; ")
		}
	}
	src.Detail = truncate(src.Detail, 200)
	return src
}

// applyRegistry fills, on a Windows host, what the system's Environment
// key knows and no profile said: the database product from dbms_type,
// the database host, and the host of instances without one from
// SAPLOCALHOST.
func (b *sapBuilder) applyRegistry() {
	e, ok := b.win.env.system(b.sys.SID)
	if !ok {
		return
	}
	host := sapRegistryDBHost(e.Values)
	if t := e.Values["dbms_type"]; t != "" && b.sys.Database == nil {
		b.sys.Database = &inventory.SAPDatabase{Product: dbProduct(t), Type: strings.ToLower(t), Host: host, Source: "registry dbms_type"}
	} else if db := b.sys.Database; db != nil && db.Host == "" {
		db.Host = host
	}
	if h := e.Values["SAPLOCALHOST"]; h != "" {
		for _, in := range b.instances {
			if in.Host == "" {
				in.Host = h
			}
		}
	}
}

// sapRegistryDBHost is the database host the environment names: SAPDBHOST,
// else the SQL Server the MSS interface connects to, without the tcp:/np:
// protocol prefix the kernel may add.
func sapRegistryDBHost(v map[string]string) string {
	for _, n := range []string{"SAPDBHOST", "dbs_mss_server", "MSSQL_SERVER"} {
		h := v[n]
		for _, p := range []string{"tcp:", "np:", "lpc:"} {
			if len(h) > len(p) && strings.EqualFold(h[:len(p)], p) {
				h = h[len(p):]
			}
		}
		if h != "" {
			return h
		}
	}
	return ""
}

// windowsSources sets, on a Windows host, the sapservices source from the
// services lists, the registry source, and says why a system known only
// from the registry has no profiles, kernel or transports.
func (b *sapBuilder) windowsSources() {
	b.sources[SAPSourceSAPServices] = b.win.servicesSource()
	b.sources[SAPSourceRegistry] = b.win.registrySource(b.sys.SID)
	if b.dir {
		return
	}
	why := `no \usr\sap\` + b.sys.SID + ` directory where the scan looked; the system is known from the Windows registry`
	for _, name := range []string{SAPSourceProfiles, SAPSourceKernel, SAPSourceTransport} {
		if s := b.sources[name]; !s.Available {
			b.sources[name] = inventory.SAPSource{Name: name, Detail: truncate(why, 200)}
		}
	}
}
