package collect

import (
	"path"
	"regexp"
	"strings"
)

// ParseSAPProfile reads an SAP profile (DEFAULT.PFL or an instance
// profile): "name = value" lines, '#' comments. A parameter set twice
// keeps its last value, as the kernel does. Values are kept verbatim
// ($(...) references are not expanded: that needs the whole profile
// chain and the environment).
func ParseSAPProfile(b []byte) map[string]string {
	out := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(strings.TrimSuffix(l, "\r"))
		if l == "" || l[0] == '#' {
			continue
		}
		name, value, ok := strings.Cut(l, "=")
		if !ok {
			continue
		}
		name = strings.TrimSpace(name)
		if name == "" || strings.ContainsAny(name, " \t") {
			continue
		}
		out[name] = strings.TrimSpace(value)
	}
	return out
}

// keptPrefixes are the profile parameters kept for compliance checks:
// logon and password rules, dispatcher, ICM and gateway security, and the
// system's identity.
var keptPrefixes = []string{"login/", "rdisp/", "icm/", "gw/", "auth/", "snc/", "ssl/", "ms/acl", "ms/monitor",
	"service/protectedwebmethods", "system/"}

var keptNames = map[string]bool{"SAPSYSTEMNAME": true, "SAPSYSTEM": true, "INSTANCE_NAME": true, "SAPGLOBALHOST": true,
	"SAPLOCALHOST": true, "SAPDBHOST": true, "dbms/type": true, "j2ee/dbtype": true, "DIR_TRANS": true,
	// The ABAP schema and HANA tenant, which reading the component table
	// needs (sap_dbread.go); other dbs/ parameters stay on the host.
	"dbs/hdb/schema": true, "dbs/hdb/dbname": true, "dbs/syb/schema": true, "dbs/ora/schema": true,
	"dbs/mss/schema": true, "dbs/mss/dbname": true, "dbs/mss/server": true}

// secretish names a parameter whose value may be a credential: never
// reported, whatever its prefix. Password rules (login/min_password_lng,
// login/password_expiration_time) are policy, not secrets, and are kept.
var secretish = regexp.MustCompile(`(?i)(^|[/_])(password|passwd|pwd|secret|credentials?|private_?key)$`)

func keepProfileParams(params map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range params {
		if secretish.MatchString(k) {
			continue
		}
		keep := keptNames[k]
		for _, p := range keptPrefixes {
			keep = keep || strings.HasPrefix(k, p)
		}
		if keep {
			out[k] = truncate(v, 1024)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// SAPService is one instance /usr/sap/sapservices starts.
type SAPService struct {
	SID      string
	Instance string // e.g. D00, ASCS01, HDB00
	Host     string
	Profile  string
	User     string // the <sid>adm user sapstartsrv runs as
}

var (
	pfRE      = regexp.MustCompile(`\bpf=(\S+)`)
	userRE    = regexp.MustCompile(`\s-u\s+(\S+)`)
	systemdRE = regexp.MustCompile(`\bSAP([A-Z][A-Z0-9]{2})_(\d{2})\b`)
)

// ParseSAPServices reads /usr/sap/sapservices in both of its forms: the
// classic shell lines starting sapstartsrv with pf=<profile>, and the
// systemd form ("systemctl ... start SAP<SID>_<NR> # sapstartsrv
// pf=..."). Lines it cannot read are skipped.
func ParseSAPServices(b []byte) []SAPService {
	var out []SAPService
	seen := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#!") || (strings.HasPrefix(l, "#") && !strings.Contains(l, "pf=")) {
			continue
		}
		var sv SAPService
		if m := pfRE.FindStringSubmatch(l); m != nil {
			sv.Profile = strings.Trim(m[1], `"';`)
			// Windows services name the profile by a UNC or drive path.
			parts := strings.SplitN(path.Base(strings.ReplaceAll(sv.Profile, `\`, "/")), "_", 3)
			if len(parts) >= 2 && sidRE.MatchString(parts[0]) && instanceNumber(parts[1]) != "" {
				sv.SID, sv.Instance = parts[0], parts[1]
				if len(parts) == 3 {
					sv.Host = parts[2]
				}
			}
		}
		if sv.SID == "" {
			if m := systemdRE.FindStringSubmatch(l); m != nil {
				sv.SID = m[1]
			}
		}
		if sv.SID == "" {
			continue
		}
		if m := userRE.FindStringSubmatch(l); m != nil {
			sv.User = m[1]
		}
		key := sv.SID + "/" + sv.Instance + "/" + sv.Profile
		if !seen[key] {
			seen[key] = true
			out = append(out, sv)
		}
	}
	return out
}
