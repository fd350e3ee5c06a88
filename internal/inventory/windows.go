package inventory

import (
	"fmt"
	"time"
)

// OSFamilyWindows is OS.Family (and OS.ID) of a Windows host.
const OSFamilyWindows = "windows"

// Windows is what the WinRM probes learn beyond the common System fields.
// A nil pointer or empty list means the probe did not run or failed (its
// ProbeResult says why), never "none": a host with no hotfixes has an empty,
// non-nil Hotfixes only when the probe succeeded.
type Windows struct {
	// Edition is the EditionID (ServerDatacenter, Professional ...).
	Edition string `json:"edition,omitempty"`
	// DisplayVersion is the feature release (21H2, 23H2); empty before 20H2.
	DisplayVersion string `json:"display_version,omitempty"`
	// InstallationType is Server, Server Core or Client.
	InstallationType string    `json:"installation_type,omitempty"`
	Build            int       `json:"build,omitempty"`
	UBR              int       `json:"ubr,omitempty"` // update build revision: the patch level within the build
	InstallDate      time.Time `json:"install_date,omitempty"`
	Domain           string    `json:"domain,omitempty"`
	PartOfDomain     bool      `json:"part_of_domain,omitempty"`

	Hotfixes       []Hotfix        `json:"hotfixes"`
	Services       []WinService    `json:"services,omitempty"`
	Firewall       []FirewallProf  `json:"firewall,omitempty"`
	Defender       *Defender       `json:"defender,omitempty"`
	PendingReboot  *PendingReboot  `json:"pending_reboot,omitempty"`
	Administrators []GroupMember   `json:"administrators,omitempty"`
	Accounts       []LocalAccount  `json:"accounts,omitempty"`
	PasswordPolicy *PasswordPolicy `json:"password_policy,omitempty"`
	SMB            *SMBConfig      `json:"smb,omitempty"`
	RDP            *RDPConfig      `json:"rdp,omitempty"`
	AutoUpdate     *AutoUpdate     `json:"auto_update,omitempty"`
}

// Hotfix is one installed update as Get-HotFix lists it (Win32_QuickFixEngineering).
// InstalledOn is zero when Windows did not record it, which happens.
type Hotfix struct {
	KB          string    `json:"kb"`
	Description string    `json:"description,omitempty"` // Update, Security Update ... (localised)
	InstalledOn time.Time `json:"installed_on,omitempty"`
}

// WinService is one Windows service (Win32_Service).
type WinService struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name,omitempty"`
	State       string `json:"state"`      // running, stopped, paused, start_pending ...
	StartMode   string `json:"start_mode"` // auto, manual, disabled, boot, system
	Account     string `json:"account,omitempty"`
}

// FirewallProf is one Windows Defender Firewall profile.
type FirewallProf struct {
	Name            string `json:"name"` // domain, private, public
	Enabled         bool   `json:"enabled"`
	DefaultInbound  string `json:"default_inbound,omitempty"`  // block, allow, not_configured
	DefaultOutbound string `json:"default_outbound,omitempty"` // block, allow, not_configured
}

// Defender is Microsoft Defender Antivirus status (Get-MpComputerStatus).
// Installed is false when the cmdlet is absent (no Defender, or a third-party
// product replaced it); the other fields are then empty.
type Defender struct {
	Installed          bool      `json:"installed"`
	ServiceEnabled     bool      `json:"service_enabled"`
	AntivirusEnabled   bool      `json:"antivirus_enabled"`
	RealTimeProtection bool      `json:"real_time_protection"`
	BehaviorMonitor    bool      `json:"behavior_monitor"`
	TamperProtected    bool      `json:"tamper_protected"`
	SignatureVersion   string    `json:"signature_version,omitempty"`
	SignatureUpdated   time.Time `json:"signature_updated,omitempty"`
	// SignatureAgeDays is Defender's own count (AntivirusSignatureAge);
	// -1 when unknown.
	SignatureAgeDays int    `json:"signature_age_days"`
	EngineVersion    string `json:"engine_version,omitempty"`
	ProductVersion   string `json:"product_version,omitempty"`
	Error            string `json:"error,omitempty"` // why Installed is false
}

// PendingReboot says whether Windows waits for a restart, and which of the
// usual registry markers say so: cbs (Component Based Servicing),
// windows_update, file_rename (PendingFileRenameOperations),
// computer_rename.
type PendingReboot struct {
	Pending bool     `json:"pending"`
	Reasons []string `json:"reasons"`
}

// GroupMember is a member of a local group.
type GroupMember struct {
	Name   string `json:"name"`             // DOMAIN\name or COMPUTER\name
	Class  string `json:"class,omitempty"`  // user, group
	Source string `json:"source,omitempty"` // local, active_directory, azure_ad, unknown
	SID    string `json:"sid,omitempty"`
}

// LocalAccount is a local user account. Builtin names the well-known
// accounts by RID: administrator (500), guest (501), default_account (503).
type LocalAccount struct {
	Name             string `json:"name"`
	SID              string `json:"sid,omitempty"`
	Enabled          bool   `json:"enabled"`
	PasswordRequired bool   `json:"password_required"`
	Builtin          string `json:"builtin,omitempty"`
}

// PasswordPolicy is the local account policy (the SAM's, as the WinNT
// provider reports it). Durations are in days or minutes as the policy
// editor shows them; 0 means "none" (never expires, no lockout).
type PasswordPolicy struct {
	MinLength            int `json:"min_length"`
	MaxAgeDays           int `json:"max_age_days"` // 0: never expires
	MinAgeDays           int `json:"min_age_days"`
	HistoryCount         int `json:"history_count"`
	LockoutThreshold     int `json:"lockout_threshold"`        // 0: never locks out
	LockoutDurationMin   int `json:"lockout_duration_minutes"` // 0 with a threshold: until an admin unlocks
	LockoutObservationMn int `json:"lockout_window_minutes"`
}

// SMBConfig is the SMB server configuration.
type SMBConfig struct {
	SMB1Enabled      bool `json:"smb1_enabled"`
	SMB2Enabled      bool `json:"smb2_enabled"`
	RequireSigning   bool `json:"require_signing"`
	EncryptData      bool `json:"encrypt_data"`
	SMB1FeatureKnown bool `json:"smb1_feature_known"` // the SMB1 optional feature state could be read
	SMB1Feature      bool `json:"smb1_feature"`       // SMB1Protocol feature installed
}

// RDPConfig is Remote Desktop's listener configuration, with Group Policy
// values taking precedence over local ones as Windows applies them.
type RDPConfig struct {
	Enabled bool `json:"enabled"`
	// NLA is true when Network Level Authentication is required.
	NLA bool `json:"nla"`
	// SecurityLayer: 0 RDP, 1 negotiate, 2 TLS.
	SecurityLayer int `json:"security_layer"`
	// MinEncryptionLevel: 1 low, 2 client compatible, 3 high, 4 FIPS.
	MinEncryptionLevel int    `json:"min_encryption_level"`
	Port               int    `json:"port,omitempty"`
	Source             string `json:"source,omitempty"` // policy or local
}

// AutoUpdate is the Windows Update client configuration.
type AutoUpdate struct {
	// Enabled is false when NoAutoUpdate=1 or the wuauserv service is
	// disabled.
	Enabled bool `json:"enabled"`
	// AUOptions: 2 notify, 3 download and notify, 4 download and schedule
	// the install, 5 local admin chooses, 7 notify install, notify
	// restart; 0 when not set by policy.
	AUOptions     int       `json:"au_options"`
	Policy        bool      `json:"policy"` // configured by Group Policy
	ServiceStart  string    `json:"service_start,omitempty"`
	WSUS          string    `json:"wsus,omitempty"` // WUServer when updates come from WSUS
	LastInstalled time.Time `json:"last_installed,omitempty"`
	LastSearched  time.Time `json:"last_searched,omitempty"`
}

// MaxWindowsList bounds each list of the Windows part (hotfixes, services,
// accounts, ...): far above any real host, low enough that one report
// cannot swamp the server.
const MaxWindowsList = 20_000

// validate checks the Windows part's list sizes; nil is valid.
func (w *Windows) validate() error {
	if w == nil {
		return nil
	}
	for name, n := range map[string]int{
		"hotfixes": len(w.Hotfixes), "services": len(w.Services), "firewall": len(w.Firewall),
		"administrators": len(w.Administrators), "accounts": len(w.Accounts),
	} {
		if n > MaxWindowsList {
			return &FieldError{Field: "system.windows." + name, Message: fmt.Sprintf("more than %d entries", MaxWindowsList)}
		}
	}
	for i, h := range w.Hotfixes {
		if h.KB == "" {
			return &FieldError{Field: fmt.Sprintf("system.windows.hotfixes[%d].kb", i), Message: "required"}
		}
	}
	return nil
}
