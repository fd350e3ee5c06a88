package inventory

import "time"

// Transports a host can be scanned over.
const (
	TransportSSH   = "ssh"
	TransportLocal = "local" // the machine the agent runs on
	TransportWinRM = "winrm" // Windows Remote Management (WS-Management over HTTP/HTTPS)
)

// AgentConfig is the body of GET /api/v1/agent/config: what one agent must
// scan and when. It carries credentials, so it is only ever sent to the agent
// the hosts are assigned to, and the agent never writes it to disk.
type AgentConfig struct {
	SchemaVersion int        `json:"schema_version"`
	AgentID       int64      `json:"agent_id"`
	WorkspaceID   int64      `json:"workspace_id"`
	Schedule      Schedule   `json:"schedule"`
	Hosts         []HostSpec `json:"hosts"`
	// RunNowID asks the agent to scan every host once, now, when it differs
	// from the last one the agent ran (the web app's "Run now"). The agent
	// reports the ID back with the run's status. Empty: no request.
	RunNowID string `json:"run_now_id,omitempty"`
}

// Schedule: scans start at Anchor (UTC, "HH:MM") and every Interval after.
type Schedule struct {
	IntervalSeconds int64  `json:"interval_seconds"`
	Anchor          string `json:"anchor"`
}

// Interval returns the schedule interval, defaulting to one hour.
func (s Schedule) Interval() time.Duration {
	if s.IntervalSeconds <= 0 {
		return time.Hour
	}
	return time.Duration(s.IntervalSeconds) * time.Second
}

// HostSpec is one host to scan and how to reach it.
type HostSpec struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Address   string `json:"address"`
	Port      int    `json:"port,omitempty"`
	Transport string `json:"transport"`
	// HostKey is the pinned SSH host key (authorized_keys format). Empty
	// means none is pinned yet: the agent trusts the first key it sees and
	// reports it.
	HostKey        string      `json:"host_key,omitempty"`
	TimeoutSeconds int         `json:"timeout_seconds,omitempty"`
	Credential     *Credential `json:"credential,omitempty"`
	// Items are the catalogue items the host's compliance checks need.
	Items []ItemRequest `json:"items,omitempty"`
	// SAP asks for the SAP probes (collect/sap*.go): set when the
	// host's workspace has SAP in scope.
	SAP bool `json:"sap,omitempty"`
	// SAPDB are the workspace's read-only database logins for reading the
	// SAP component table (CVERS) of the systems discovery finds. Only
	// sent with SAP set.
	SAPDB []SAPDBLogin `json:"sap_db,omitempty"`
	// Sudo allows the documented privileged probes to run through
	// `sudo -n` (never a password prompt). Off by default: those probes
	// then report "needs privilege" and the scan still succeeds.
	Sudo bool `json:"sudo,omitempty"`
	// LegacyAlgorithms re-enables old SSH key exchanges and ciphers
	// (diffie-hellman-group1/14-sha1, ssh-rsa with SHA-1, CBC) for old hosts.
	LegacyAlgorithms bool `json:"legacy_algorithms,omitempty"`
	// Jump is a bastion the SSH connection goes through, when set.
	Jump *JumpHost `json:"jump,omitempty"`
	// WinRM holds the Windows Remote Management options (transport winrm).
	WinRM *WinRMOptions `json:"winrm,omitempty"`
}

// JumpHost is an SSH bastion: the agent logs into it and opens a direct
// TCP channel to the target through it; nothing runs on the bastion.
type JumpHost struct {
	Address    string      `json:"address"`
	Port       int         `json:"port,omitempty"`
	HostKey    string      `json:"host_key,omitempty"` // pinned like HostSpec.HostKey
	Credential *Credential `json:"credential,omitempty"`
}

// SAPDBLogin is a read-only database login for the SAP systems with one
// SID, or for every system when SID is empty. The agent hands the password
// to the database client on the host through its standard input, never on
// a command line (collect/sap_dbread.go).
type SAPDBLogin struct {
	SID        string      `json:"sid,omitempty"`
	Credential *Credential `json:"credential,omitempty"`
	// Address is where the client connects: host:port for HANA (the SQL
	// port of the tenant, or of SYSTEMDB with Database set), the server
	// name for ASE, a TNS alias or host:port/service for Oracle. Empty:
	// the client's default for the SID (see docs/sap.md).
	Address string `json:"address,omitempty"`
	// Database is the HANA tenant when Address is SYSTEMDB's port.
	Database string `json:"database,omitempty"`
	// Schema owns CVERS (SAPHANADB, SAPABAP1, SAPSR3 ...). Empty: found
	// in the catalogue (HANA, Oracle) or SAPSR3 (ASE).
	Schema string `json:"schema,omitempty"`
}

// WinRMOptions says how to talk WS-Management to a Windows host.
type WinRMOptions struct {
	HTTPS    bool   `json:"https"`              // port 5986 by default, else 5985
	Insecure bool   `json:"insecure,omitempty"` // skip TLS verification (self-signed listener)
	CAPEM    string `json:"ca_pem,omitempty"`   // trust this CA for the listener's certificate
	Auth     string `json:"auth,omitempty"`     // ntlm (default) or basic
}

// Credential is a decrypted login, sent only over the agent's authenticated
// channel. Its String method never prints secrets. Any field may instead be
// a reference "vault:<path>#<key>" that the agent resolves at scan time.
type Credential struct {
	Username   string `json:"username"`
	Password   string `json:"password,omitempty"`
	PrivateKey string `json:"private_key,omitempty"`
	Passphrase string `json:"passphrase,omitempty"`
}

func (c *Credential) String() string {
	if c == nil {
		return "<no credential>"
	}
	kind := "none"
	switch {
	case c.PrivateKey != "":
		kind = "private key"
	case c.Password != "":
		kind = "password"
	}
	return c.Username + " (" + kind + ")"
}
