package collect

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport"
)

// sapCommand discovers the SAP systems of a Unix host in one exec. It
// only lists directories, reads files (profiles, sapservices, the HANA
// manifest, the transport buffer and logs) and asks programs for their
// version: `disp+work -version`, `sapcontrol -function GetVersionInfo`
// and `ABAPGetComponentList` (read-only web methods of sapstartsrv), and
// `HDB version`. It never calls tp, R3trans or anything that changes a
// system. Every path is built from names the command itself checked: a
// SID matches [A-Z][A-Z0-9][A-Z0-9], an instance directory ends in two
// digits, and the instance number passed to sapcontrol is those digits.
// Outputs are capped so a huge log cannot swamp the report.
const sapCommand = `S=/usr/sap; T=/usr/sap/trans
[ -d $S ] || { echo '==> absent <=='; exit 0; }
echo '==> usrsap <=='; ls -1 $S 2>&1
[ -r $S/sapservices ] && { echo '==> sapservices <=='; head -c 65536 $S/sapservices; echo; }
for sid in $(ls -1 $S 2>/dev/null | grep -E '^[A-Z][A-Z0-9]{2}$'); do
  echo "==> sid $sid <=="
  P=/sapmnt/$sid/profile; [ -d $P ] || P=$S/$sid/SYS/profile
  for f in $P/DEFAULT.PFL $P/${sid}_*; do
    [ -f "$f" ] && [ -r "$f" ] || continue
    case "$f" in *.[0-9]|*.bak|*.BAK|*.old|*.sav|*.log|*~) continue;; esac
    echo "==> profile $sid $f <=="; head -c 262144 "$f"; echo
  done
  comp=
  for i in $S/$sid/*[0-9][0-9]; do
    [ -d "$i" ] || continue
    n=${i##*/}; nr=$(echo "$n" | sed 's/^.*\([0-9][0-9]\)$/\1/')
    echo "==> instance $sid $n <=="
    case $n in
    HDB[0-9][0-9])
      [ -r $i/exe/manifest ] && { echo "==> hdbmanifest $sid $n <=="; head -c 16384 $i/exe/manifest; echo; }
      [ -x $i/HDB ] && { echo "==> hdbversion $sid $n <=="; $i/HDB version 2>&1 | head -c 16384; } ;;
    *)
      if [ -x $i/exe/disp+work ]; then
        echo "==> dispwork $sid $n <=="; (cd $i/exe && LD_LIBRARY_PATH=$i/exe ./disp+work -version 2>&1 | head -c 65536)
      elif [ -x $i/exe/sapcontrol ]; then
        echo "==> versioninfo $sid $n <=="; LD_LIBRARY_PATH=$i/exe $i/exe/sapcontrol -nr $nr -function GetVersionInfo 2>&1 | head -c 65536
      fi
      case $n in D[0-9][0-9]|DVEBMGS[0-9][0-9])
        if [ -z "$comp" ] && [ -x $i/exe/sapcontrol ]; then
          comp=1; echo "==> components $sid $n <=="; LD_LIBRARY_PATH=$i/exe $i/exe/sapcontrol -nr $nr -function ABAPGetComponentList 2>&1 | head -c 262144
        fi;;
      esac;;
    esac
  done
  for d in /sybase/$sid/ASE-* /oracle/$sid/[0-9]*; do [ -d "$d" ] && echo "==> dbdir $sid $d <=="; done
  if [ -r $T/buffer/$sid ]; then echo "==> tpbuffer $sid <=="; head -c 1048576 $T/buffer/$sid; echo
  elif [ -d $T/buffer ]; then echo "==> tpbuffer $sid (unreadable) <=="; fi
  for f in $(ls -1t $T/log/ALOG* 2>/dev/null | head -2); do echo "==> tplog $sid $f <=="; grep " $sid " "$f" | tail -n 2000; done
done
true`

// sapProbe runs only when the host's workspace has SAP in scope.
var sapProbe = Probe{
	Name:    inventory.SAPProbeName,
	Command: sapCommand,
	apply: func(out []byte, _ time.Time, rep *inventory.HostReport) error {
		systems, err := ParseSAP(out)
		if err != nil {
			return err
		}
		rep.SAP = systems
		return nil
	},
}

// SAPCommand is the SAP discovery command, for the demo's replay server
// and tests that emulate an SAP host.
func SAPCommand() string { return sapCommand }

// ScanSAP discovers the host's SAP systems into rep.SAP and records the
// "sap" probe result. Like Scan, a failure on the host is recorded and a
// session error returned.
func ScanSAP(ctx context.Context, r transport.Runner, rep *inventory.HostReport, now time.Time) error {
	return runProbe(ctx, r, sapProbe, rep, now)
}

// SAP source names, shown per system in the UI.
const (
	SAPSourceProfiles    = "profiles"
	SAPSourceSAPServices = "sapservices"
	SAPSourceKernel      = "kernel"
	SAPSourceComponents  = "components" // the full list, from ABAPGetComponentList
	SAPSourceDatabase    = "database"
	SAPSourceTransport   = "transport"
)

var sidRE = regexp.MustCompile(`^[A-Z][A-Z0-9]{2}$`)

// sapBuilder collects one SID's sections.
type sapBuilder struct {
	sys                          inventory.SAPSystem
	instances                    map[string]*inventory.SAPInstance
	sources                      map[string]inventory.SAPSource
	buffer                       []string
	bufferRead, bufferUnreadable bool
	logs                         []inventory.SAPImport
	logsRead                     bool
	dir                          bool          // a "sid" section: the SID has a directory in /usr/sap
	win                          *sapWinOutput // the Windows registry and services; nil on Unix
}

func (b *sapBuilder) instance(name string) *inventory.SAPInstance {
	if in, ok := b.instances[name]; ok {
		return in
	}
	in := &inventory.SAPInstance{Name: name, Number: instanceNumber(name), Type: instanceType(name)}
	b.instances[name] = in
	return in
}

func (b *sapBuilder) source(name string, ok bool, detail string) {
	if old, seen := b.sources[name]; seen && old.Available && !ok {
		return // one good source of a kind is enough
	}
	b.sources[name] = inventory.SAPSource{Name: name, Available: ok, Detail: truncate(detail, 200)}
}

// ParseSAP turns the output of the SAP discovery command into systems,
// one per SID, sorted by SID. A host without /usr/sap has none. Every
// source a system could have is listed in its Sources, available or not.
func ParseSAP(out []byte) ([]inventory.SAPSystem, error) {
	secs := parseSections(out)
	if len(secs) == 0 {
		return nil, fmt.Errorf("parse sap: no output sections")
	}
	builders := map[string]*sapBuilder{}
	get := func(sid string) *sapBuilder {
		if b, ok := builders[sid]; ok {
			return b
		}
		b := &sapBuilder{sys: inventory.SAPSystem{SID: sid}, instances: map[string]*inventory.SAPInstance{}, sources: map[string]inventory.SAPSource{}}
		builders[sid] = b
		return b
	}
	var services []SAPService
	servicesRead := false
	var win sapWinOutput
	for _, s := range secs {
		f := strings.Fields(s.name)
		if len(f) == 0 {
			continue
		}
		if f[0] == "absent" {
			return []inventory.SAPSystem{}, nil
		}
		if f[0] == "sapservices" {
			services, servicesRead = ParseSAPServices([]byte(s.content)), true
			win.addWMI(s.content)
			continue
		}
		if win.add(f[0], s.content) {
			continue
		}
		if len(f) < 2 || !sidRE.MatchString(f[1]) {
			continue
		}
		arg := strings.Join(f[2:], " ")
		switch f[0] {
		case "instance", "dispwork", "versioninfo":
			if instanceNumber(arg) == "" {
				continue
			}
		}
		b := get(f[1])
		switch f[0] {
		case "sid":
			b.dir = true
		case "profile":
			b.addProfile(arg, s.content)
		case "instance":
			b.instance(arg)
		case "dispwork":
			k, err := ParseDispWorkVersion([]byte(s.content))
			b.addKernel(arg, k, err, "disp+work -version")
		case "versioninfo":
			k, err := ParseSAPControlVersionInfo([]byte(s.content))
			b.addKernel(arg, k, err, "sapcontrol GetVersionInfo")
		case "components":
			cs, err := ParseSAPComponentList([]byte(s.content))
			if err != nil {
				b.source(SAPSourceComponents, false, err.Error())
				continue
			}
			b.sys.Components = append(b.sys.Components, cs...)
			b.source(SAPSourceComponents, true, "sapcontrol ABAPGetComponentList on "+arg)
		case "hdbversion", "hdbmanifest":
			db, err := ParseHDBVersion([]byte(s.content))
			if err != nil {
				b.source(SAPSourceDatabase, false, err.Error())
				continue
			}
			db.Source = map[string]string{"hdbversion": "HDB version", "hdbmanifest": "HANA manifest"}[f[0]]
			b.addDatabase(db)
		case "dbdir":
			if db, ok := ParseSAPDBDir(arg); ok {
				b.addDatabase(db)
			}
		case "tpbuffer":
			if s.note == "unreadable" || arg == "(unreadable)" {
				b.bufferUnreadable = true
				continue
			}
			b.buffer, b.bufferRead = ParseTPBuffer([]byte(s.content)), true
		case "tplog":
			b.logs, b.logsRead = append(b.logs, ParseTPLog([]byte(s.content), f[1])...), true
		}
	}
	if win.windows {
		services, servicesRead = win.services()
		for _, sid := range win.sids() {
			get(sid)
		}
		for _, b := range builders {
			b.win = &win
		}
	}
	out2 := make([]inventory.SAPSystem, 0, len(builders))
	for _, b := range builders {
		out2 = append(out2, b.finish(services, servicesRead))
	}
	sort.Slice(out2, func(i, j int) bool { return out2[i].SID < out2[j].SID })
	return out2, nil
}

func (b *sapBuilder) addProfile(file, content string) {
	params := ParseSAPProfile([]byte(content))
	kept := keepProfileParams(params)
	base := path.Base(file)
	if base == "DEFAULT.PFL" {
		b.sys.Profile = kept
		b.source(SAPSourceProfiles, true, path.Dir(file))
		if t := params["dbms/type"]; t != "" && b.sys.Database == nil {
			b.sys.Database = &inventory.SAPDatabase{Product: dbProduct(t), Type: strings.ToLower(t), Host: params["SAPDBHOST"], Source: "DEFAULT.PFL dbms/type"}
		}
		return
	}
	// Instance profiles are named <SID>_<INSTANCE>_<host>; START_ profiles
	// of old releases add nothing the instance profile lacks.
	parts := strings.SplitN(base, "_", 3)
	if len(parts) < 2 || instanceNumber(parts[1]) == "" {
		return
	}
	in := b.instance(parts[1])
	in.Profile = file
	in.Params = kept
	if h := params["SAPLOCALHOST"]; h != "" {
		in.Host = h
	} else if len(parts) == 3 {
		in.Host = parts[2]
	}
}

func (b *sapBuilder) addKernel(instance string, k *inventory.SAPKernel, err error, source string) {
	if err != nil {
		b.source(SAPSourceKernel, false, source+": "+err.Error())
		return
	}
	k.Source = source
	b.instance(instance).Kernel = k
	b.source(SAPSourceKernel, true, source)
	if b.sys.Kernel == nil || kernelNewer(k, b.sys.Kernel) {
		b.sys.Kernel = k
	}
}

func (b *sapBuilder) addDatabase(db *inventory.SAPDatabase) {
	cur := b.sys.Database
	// A version read from the database software beats the profile's
	// dbms/type, which only names the product.
	if cur == nil || cur.Version == "" {
		if cur != nil && db.Host == "" {
			db.Host = cur.Host
		}
		if cur != nil && db.Type == "" {
			db.Type = cur.Type
		}
		b.sys.Database = db
	}
	b.source(SAPSourceDatabase, true, db.Source)
}

func (b *sapBuilder) finish(services []SAPService, servicesRead bool) inventory.SAPSystem {
	for _, sv := range services {
		if sv.SID == b.sys.SID && sv.Instance != "" {
			in := b.instance(sv.Instance)
			in.Registered = true
			if in.Profile == "" {
				in.Profile = sv.Profile
			}
		}
	}
	if b.win != nil {
		b.applyRegistry()
	}
	names := make([]string, 0, len(b.instances))
	for n := range b.instances {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		b.sys.Instances = append(b.sys.Instances, *b.instances[n])
	}
	b.sys.Components = append(kernelComponents(b.sys.Kernel), b.sys.Components...)
	if db := b.sys.Database; db != nil && db.Product == "HANA" && db.Release != "" {
		b.sys.Components = append(b.sys.Components, inventory.SAPComponent{Name: "HDB", Release: db.Release, PatchLevel: db.Level, Source: db.Source})
	}
	if b.bufferRead || b.logsRead {
		b.sys.Transport = transportState(b.buffer, b.logs)
		detail := "/usr/sap/trans buffer"
		if b.logsRead {
			detail += " and ALOG"
		}
		b.source(SAPSourceTransport, b.bufferRead, detail)
	} else if b.bufferUnreadable {
		b.source(SAPSourceTransport, false, "/usr/sap/trans/buffer/"+b.sys.SID+" not readable by the scan user")
	}
	defaults := map[string]string{
		SAPSourceProfiles:   "no readable DEFAULT.PFL in /sapmnt/" + b.sys.SID + "/profile",
		SAPSourceKernel:     "no executable disp+work or sapcontrol in the instance directories",
		SAPSourceComponents: "no ABAP instance answered ABAPGetComponentList; components come from kernel and database versions only",
		SAPSourceDatabase:   "no database version readable without database credentials",
		SAPSourceTransport:  "no transport buffer for this SID in /usr/sap/trans",
	}
	for name, why := range defaults {
		if _, ok := b.sources[name]; !ok {
			b.sources[name] = inventory.SAPSource{Name: name, Available: false, Detail: why}
		}
	}
	if servicesRead {
		b.sources[SAPSourceSAPServices] = inventory.SAPSource{Name: SAPSourceSAPServices, Available: true, Detail: "/usr/sap/sapservices"}
	} else {
		b.sources[SAPSourceSAPServices] = inventory.SAPSource{Name: SAPSourceSAPServices, Available: false, Detail: "/usr/sap/sapservices missing or unreadable"}
	}
	order := []string{SAPSourceProfiles, SAPSourceSAPServices, SAPSourceKernel, SAPSourceComponents, SAPSourceDatabase, SAPSourceTransport}
	if b.win != nil {
		b.windowsSources()
		order = append(order, SAPSourceRegistry)
	}
	for _, name := range order {
		b.sys.Sources = append(b.sys.Sources, b.sources[name])
	}
	return b.sys
}

// instanceNumber returns the two-digit number an instance name ends in.
func instanceNumber(name string) string {
	if len(name) < 3 {
		return ""
	}
	nr := name[len(name)-2:]
	if nr[0] < '0' || nr[0] > '9' || nr[1] < '0' || nr[1] > '9' {
		return ""
	}
	for _, c := range name[:len(name)-2] {
		if c < 'A' || c > 'Z' {
			return ""
		}
	}
	return nr
}

// instanceType names an instance's kind from its name.
func instanceType(name string) string {
	p := strings.TrimRight(name, "0123456789")
	switch p {
	case "D", "DVEBMGS":
		return "abap"
	case "J", "JC":
		return "java"
	case "ASCS":
		return "ascs"
	case "SCS":
		return "scs"
	case "ERS":
		return "ers"
	case "HDB":
		return "hana"
	case "SMDA":
		return "smda"
	case "W":
		return "webdispatcher"
	case "G":
		return "gateway"
	}
	return "other"
}
