package inventory

import (
	"fmt"
	"regexp"
)

// SAP inventory: what the SAP probes (collect/sap*.go) found on a host.
// They run only when the host's workspace has SAP in scope (HostSpec.SAP),
// and only read files and print versions; docs/sap.md lists every command.
//
// A report carries SAP data when its Probes list the "sap" probe; SAP then
// holds the systems found (possibly none). Without that probe, the server
// keeps what it knew.

// SAPProbeName is the probe result that says SAP discovery ran.
const SAPProbeName = "sap"

// SAPSystem is one SAP system (one SID) installed on the host.
type SAPSystem struct {
	SID       string        `json:"sid"`
	Instances []SAPInstance `json:"instances,omitempty"`
	// Kernel is the newest kernel found among the instances (they share
	// one in a standard installation).
	Kernel   *SAPKernel   `json:"kernel,omitempty"`
	Database *SAPDatabase `json:"database,omitempty"`
	// Components are the software components with their release and
	// level: those derived from the kernel and database versions, and
	// those read from sapcontrol's component list where it answered.
	Components []SAPComponent `json:"components,omitempty"`
	// Profile holds the security-relevant parameters of DEFAULT.PFL
	// (login/*, rdisp/*, icm/*, gw/* and the system identity), for
	// compliance checks. Instance profiles' values are on each instance.
	Profile   map[string]string `json:"profile,omitempty"`
	Transport *SAPTransport     `json:"transport,omitempty"`
	// Sources says, per source, whether it could be read: the UI shows
	// it so an empty component list is never mistaken for "none".
	Sources []SAPSource `json:"sources,omitempty"`
}

// SAPInstance is one instance of a system (DVEBMGS00, D01, ASCS01,
// J00, HDB00, ERS10, SMDA97 ...).
type SAPInstance struct {
	Name   string `json:"name"`
	Number string `json:"number"` // two digits
	// Type is what the instance name says: abap (D/DVEBMGS), java (J),
	// ascs, scs, ers, hana (HDB), smda (diagnostics agent), other.
	Type    string            `json:"type"`
	Host    string            `json:"host,omitempty"`    // SAPLOCALHOST or the profile name's host part
	Profile string            `json:"profile,omitempty"` // profile path
	Params  map[string]string `json:"params,omitempty"`  // kept parameters of the instance profile
	// Registered says /usr/sap/sapservices starts the instance.
	Registered bool       `json:"registered,omitempty"`
	Kernel     *SAPKernel `json:"kernel,omitempty"`
}

// SAPKernel is the kernel an instance runs.
type SAPKernel struct {
	Release     string `json:"release"`                // "753", "789", "722"
	PatchLevel  string `json:"patch_level,omitempty"`  // "1200"
	MakeVariant string `json:"make_variant,omitempty"` // "753_REL", "722_EXT_REL"
	Unicode     bool   `json:"unicode,omitempty"`
	Bits        int    `json:"bits,omitempty"` // 64 on every supported kernel
	CompiledOn  string `json:"compiled_on,omitempty"`
	Source      string `json:"source"` // "disp+work -version" or "sapcontrol GetVersionInfo"
}

// SAPDatabase is the system's database, where its version was readable.
type SAPDatabase struct {
	Product string `json:"product"`           // HANA, ASE, Oracle, MaxDB, Db2, MSSQL
	Type    string `json:"type,omitempty"`    // dbms/type from the profile: hdb, syb, ora, ada, db6, mss
	Version string `json:"version,omitempty"` // full version, e.g. 2.00.059.04.1660047386
	Release string `json:"release,omitempty"` // e.g. 2.00, 16.0, 19
	Level   string `json:"level,omitempty"`   // HANA revision (059), ASE SP/PL
	Host    string `json:"host,omitempty"`    // SAPDBHOST
	Source  string `json:"source,omitempty"`
}

// SAPComponent is one software component at a release and level.
type SAPComponent struct {
	Name       string `json:"name"`                  // SAP_BASIS, KRNL64UC, HDB ...
	Release    string `json:"release"`               // 750, 7.53, 2.00
	SPLevel    string `json:"sp_level,omitempty"`    // support package, e.g. 0012
	PatchLevel string `json:"patch_level,omitempty"` // kernel patch or HANA revision
	Source     string `json:"source"`
}

// SAPTransport is the import state of the system's transport directory.
type SAPTransport struct {
	Dir           string     `json:"dir,omitempty"`
	QueueDepth    int        `json:"queue_depth"`    // requests in the buffer not yet imported
	FailedImports int        `json:"failed_imports"` // imports that ended with return code 8 or more
	LastImport    *SAPImport `json:"last_import,omitempty"`
	Source        string     `json:"source,omitempty"`
}

// SAPImport is one import step found in the transport logs.
type SAPImport struct {
	Request    string `json:"request"` // e.g. DEVK900123
	At         string `json:"at,omitempty"`
	ReturnCode int    `json:"return_code"`
	Status     string `json:"status"` // ok (0), warning (4), error (8), fatal (12+)
}

// SAPSource says whether one source of SAP data could be read.
type SAPSource struct {
	Name      string `json:"name"` // profiles, sapservices, disp+work, sapcontrol, hdb, transport, components
	Available bool   `json:"available"`
	Detail    string `json:"detail,omitempty"`
}

// HasSAPScan reports whether the report's agent ran SAP discovery and it
// succeeded: a discovery that failed must not wipe what the server knew.
func (r *HostReport) HasSAPScan() bool {
	for _, p := range r.Probes {
		if p.Name == SAPProbeName {
			return p.Error == ""
		}
	}
	return false
}

// Limits on a report's SAP data: far above any real host (a host runs a
// handful of systems), low enough that a broken agent cannot swamp the
// server.
const (
	MaxSAPSystems    = 100
	MaxSAPInstances  = 100
	MaxSAPComponents = 2000
	MaxSAPParams     = 2000
)

// validateSAP checks what the server keys on: every system has a SID of
// SAP's form, once, and the lists stay within the limits.
func (r *HostReport) validateSAP() error {
	bad := func(field, format string, args ...any) error {
		return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
	}
	if len(r.SAP) > MaxSAPSystems {
		return bad("sap", "more than %d SAP systems", MaxSAPSystems)
	}
	seen := map[string]bool{}
	for i, s := range r.SAP {
		if !validSID(s.SID) {
			return bad(fmt.Sprintf("sap[%d].sid", i), "%q is not an SAP system ID (three characters, a letter then letters or digits)", truncateID(s.SID))
		}
		if seen[s.SID] {
			return bad(fmt.Sprintf("sap[%d].sid", i), "%s listed twice", s.SID)
		}
		seen[s.SID] = true
		if len(s.Instances) > MaxSAPInstances {
			return bad(fmt.Sprintf("sap[%d].instances", i), "more than %d instances", MaxSAPInstances)
		}
		if len(s.Components) > MaxSAPComponents {
			return bad(fmt.Sprintf("sap[%d].components", i), "more than %d components", MaxSAPComponents)
		}
		n := len(s.Profile)
		for _, in := range s.Instances {
			n += len(in.Params)
		}
		if n > MaxSAPParams {
			return bad(fmt.Sprintf("sap[%d].profile", i), "more than %d profile parameters", MaxSAPParams)
		}
	}
	return nil
}

func validSID(s string) bool {
	if len(s) != 3 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for _, c := range s[1:] {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func truncateID(s string) string {
	if len(s) > 20 {
		return s[:20] + "..."
	}
	return s
}

var (
	// A backslash names an SQL Server instance (host\INSTANCE).
	sapDBAddressRE  = regexp.MustCompile(`^[A-Za-z0-9._:\[\]/\\-]{1,253}$`)
	sapDBDatabaseRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)
	// SAPDBSchemaRE is an ABAP schema's name: SAPHANADB, SAPABAP1, SAPSR3,
	// or on SQL Server the system's SID in lower case ("prd").
	SAPDBSchemaRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_#$]{0,127}$`)
)

// Validate checks a login's non-secret fields, on the server when it is
// saved and again on the agent: they end up in a command line or in a
// database client's input, so only plain names pass.
func (l SAPDBLogin) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
	}
	switch {
	case l.SID != "" && !validSID(l.SID):
		return bad("sid", "%q is not an SAP system ID (three characters, a capital letter then capitals or digits)", truncateID(l.SID))
	case l.Address != "" && !sapDBAddressRE.MatchString(l.Address):
		return bad("address", "%q: use host:port, a server name, host\\instance or host:port/service (letters, digits and . _ : / \\ - [ ])", truncateID(l.Address))
	case l.Database != "" && !sapDBDatabaseRE.MatchString(l.Database):
		return bad("database", "%q: letters, digits and _ only", truncateID(l.Database))
	case l.Schema != "" && !SAPDBSchemaRE.MatchString(l.Schema):
		return bad("schema", "%q: letters, digits and _ # $ only, starting with a letter", truncateID(l.Schema))
	}
	return nil
}
