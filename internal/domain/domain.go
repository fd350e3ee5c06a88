// Package domain holds the server's domain types (workspaces, users, agents,
// hosts, credentials, snapshots), their business rules and the error codes
// every layer speaks. It does no I/O: stores, HTTP handlers and the web app
// depend on it, never the other way round.
package domain

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

// Roles a user can hold in a workspace.
const (
	RoleAdmin    = "admin"    // everything
	RoleOperator = "operator" // hosts, scans, credentials
	RoleViewer   = "viewer"   // read-only
)

// Workspace is a tenant. Every other row belongs to exactly one.
type Workspace struct {
	ID        int64
	Name      string
	Slug      string
	Schedule  inventory.Schedule
	CreatedAt time.Time
}

// User is a person who logs into the web app or calls the API.
type User struct {
	ID           int64
	Login        string
	PasswordHash string // argon2id, PHC string format
	CreatedAt    time.Time
}

// Membership is a user's role in one workspace.
type Membership struct {
	WorkspaceID int64
	UserID      int64
	Role        string
}

// CanWrite reports whether the role may change hosts and credentials.
func CanWrite(role string) bool { return role == RoleAdmin || role == RoleOperator }

// APIToken authenticates a user to the REST API. Only its hash is stored;
// the token itself is shown once, when created.
type APIToken struct {
	ID          int64
	WorkspaceID int64
	UserID      int64
	Name        string
	Prefix      string // first characters, to recognise a token in lists
	Hash        []byte
	CreatedAt   time.Time
	LastUsedAt  *time.Time
}

// Agent is one collector installation. Its key is stored hashed.
type Agent struct {
	ID          int64
	WorkspaceID int64
	Name        string
	KeyPrefix   string
	KeyHash     []byte
	Version     string
	CreatedAt   time.Time
	LastSeenAt  *time.Time
	RevokedAt   *time.Time
	HostCount   int // filled by listings
}

// Credential is a login the agent uses. The secret parts are sealed with the
// master key before they reach the store and are never returned by the API.
type Credential struct {
	ID               int64
	WorkspaceID      int64
	Name             string
	Username         string
	IsDefault        bool
	HasPassword      bool
	HasPrivateKey    bool
	SealedPassword   []byte
	SealedPrivateKey []byte
	SealedPassphrase []byte
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// SAPDBLogin says which stored credential the agent uses, read-only, to
// read the SAP component table of one system (SID) or of every system
// (SID empty); the secret stays in the credential store.
type SAPDBLogin struct {
	ID             int64
	WorkspaceID    int64
	SID            string
	CredentialID   int64
	CredentialName string // filled by List
	Address        string // empty: the client's default (docs/sap.md)
	Database       string // HANA tenant when Address is SYSTEMDB's port
	Schema         string // empty: from the profile or the catalogue
	CreatedBy      string
	CreatedAt      time.Time
}

// Host is a managed machine. The scan fields are the denormalised state of
// its latest report so that the hosts list is one cheap query.
type Host struct {
	ID           int64
	WorkspaceID  int64
	AgentID      *int64
	CredentialID *int64
	Name         string
	Address      string
	Port         int
	Transport    string
	Demo         bool // a replayed demo host, labelled as such in the UI
	HostKey      string
	// Options are the per-host transport settings (sudo, legacy SSH
	// algorithms, jump host, WinRM). Stored as one JSON column.
	Options   HostOptions
	CreatedAt time.Time
	UpdatedAt time.Time

	LastScanAt    *time.Time // last report of any status
	LastSuccessAt *time.Time // last report with status ok
	LastError     string     // error of the last report, empty when it succeeded
	LastErrorKind string
	OSID          string
	OSVersionID   string
	OSName        string
	OSFamily      string // debian, redhat, suse, alpine, linux
	OSIDLike      string // os-release ID_LIKE, space-separated
	Kernel        string
	PackageCount  int
}

// HostOptions are the per-host transport settings an operator may set.
type HostOptions struct {
	// Sudo lets the documented privileged probes run through `sudo -n`.
	Sudo bool `json:"sudo,omitempty"`
	// LegacyAlgorithms re-enables old SSH key exchanges and ciphers.
	LegacyAlgorithms bool `json:"legacy_algorithms,omitempty"`
	// Jump is an SSH bastion to connect through.
	Jump *JumpHost `json:"jump,omitempty"`
	// WinRM holds the WS-Management settings of a winrm host.
	WinRM *inventory.WinRMOptions `json:"winrm,omitempty"`
}

// JumpHost is a bastion; its login is a stored credential of the same
// workspace (nil: the host's own credential).
type JumpHost struct {
	Address      string `json:"address"`
	Port         int    `json:"port,omitempty"`
	HostKey      string `json:"host_key,omitempty"`
	CredentialID *int64 `json:"credential_id,omitempty"`
}

// OS returns the host's operating system identity as last reported.
func (h *Host) OS() inventory.OS {
	os := inventory.OS{Family: h.OSFamily, ID: h.OSID, VersionID: h.OSVersionID, Name: h.OSName}
	if h.OSIDLike != "" {
		os.IDLike = strings.Fields(h.OSIDLike)
	}
	return os
}

// Stale reports whether the last successful scan is older than three
// schedule intervals (or there never was one and the host is that old).
func (h *Host) Stale(now time.Time, interval time.Duration) bool {
	ref := h.CreatedAt
	if h.LastSuccessAt != nil {
		ref = *h.LastSuccessAt
	}
	return now.Sub(ref) > 3*interval
}

// HostInput is what a user supplies to create or change a host. Secret
// fields, when set, create or replace the host's own credential.
type HostInput struct {
	Name       *string `json:"name"`
	Address    *string `json:"address"`
	Port       *int    `json:"port"`
	Transport  *string `json:"transport"`
	AgentID    *int64  `json:"agent_id"`
	Username   *string `json:"username"`
	Password   *string `json:"password"`
	PrivateKey *string `json:"private_key"`
	Passphrase *string `json:"passphrase"`
	// CredentialID selects a named credential instead of inline secrets.
	CredentialID *int64 `json:"credential_id"`
	// ResetHostKey forgets the pinned SSH host key so that the next scan
	// pins the key the host now presents. For an intentional key rotation.
	ResetHostKey bool `json:"reset_host_key"`
	// ResetJumpHostKey forgets the jump host's pinned key. Without it a
	// pinned key is kept when options name the same bastion (address and
	// port) without a host_key, so re-sending options cannot un-pin it.
	ResetJumpHostKey bool `json:"reset_jump_host_key"`
	// Options replaces the host's transport options when given.
	Options *HostOptions `json:"options"`
}

// HasSecret reports whether the input carries a login secret.
func (in *HostInput) HasSecret() bool {
	return nonEmpty(in.Password) || nonEmpty(in.PrivateKey)
}

// Apply validates the input and copies it onto h. For a new host, name and
// address are required.
func (in *HostInput) Apply(h *Host, isNew bool) error {
	if in.Name != nil {
		h.Name = strings.TrimSpace(*in.Name)
	}
	if in.Address != nil {
		h.Address = strings.TrimSpace(*in.Address)
	}
	if in.Port != nil {
		h.Port = *in.Port
	}
	if in.Transport != nil {
		h.Transport = *in.Transport
	}
	if in.AgentID != nil {
		h.AgentID = in.AgentID
	}
	if in.CredentialID != nil {
		h.CredentialID = in.CredentialID
	}
	if in.Options != nil {
		old := h.Options.Jump
		h.Options = *in.Options
		if j := h.Options.Jump; j != nil && j.HostKey == "" && old != nil && sameBastion(old, j) {
			j.HostKey = old.HostKey
		}
	}
	if in.ResetJumpHostKey && h.Options.Jump != nil {
		h.Options.Jump.HostKey = ""
	}
	if h.Transport == "" {
		h.Transport = inventory.TransportSSH
	}
	if h.Port == 0 && h.Transport == inventory.TransportSSH {
		h.Port = 22
	}
	if h.Transport == inventory.TransportWinRM {
		if h.Options.WinRM == nil {
			h.Options.WinRM = &inventory.WinRMOptions{HTTPS: true}
		}
		if h.Port == 0 {
			h.Port = 5985
			if h.Options.WinRM.HTTPS {
				h.Port = 5986
			}
		}
	}
	if h.Name == "" && h.Address != "" {
		h.Name = h.Address
	}
	switch {
	case h.Name == "":
		return Errorf(EINVALID, "name: required")
	case len(h.Name) > 255:
		return Errorf(EINVALID, "name: longer than 255 characters")
	case h.Transport != inventory.TransportSSH && h.Transport != inventory.TransportLocal && h.Transport != inventory.TransportWinRM:
		return Errorf(EINVALID, "transport: must be %q, %q or %q", inventory.TransportSSH, inventory.TransportWinRM, inventory.TransportLocal)
	case h.Transport != inventory.TransportLocal && h.Address == "":
		return Errorf(EINVALID, "address: required for %s hosts", h.Transport)
	case h.Port < 0 || h.Port > 65535:
		return Errorf(EINVALID, "port: must be between 1 and 65535")
	case strings.ContainsAny(h.Address, " /\\@"):
		return Errorf(EINVALID, "address: must be a host name or IP address")
	}
	if h.Address != "" && strings.Contains(h.Address, ":") && net.ParseIP(h.Address) == nil {
		return Errorf(EINVALID, "address: give the port in the port field, not in the address")
	}
	if nonEmpty(in.Password) && nonEmpty(in.PrivateKey) {
		return Errorf(EINVALID, "password, private_key: give one, not both")
	}
	if in.HasSecret() && (in.Username == nil || strings.TrimSpace(*in.Username) == "") {
		return Errorf(EINVALID, "username: required with a password or private key")
	}
	if err := h.Options.validate(h.Transport); err != nil {
		return err
	}
	if in.ResetHostKey {
		h.HostKey = ""
	}
	_ = isNew
	return nil
}

func nonEmpty(s *string) bool { return s != nil && *s != "" }

// sameBastion reports whether two jump hosts are the same machine as far
// as pinning goes: same address and port (0 meaning 22).
func sameBastion(a, b *JumpHost) bool {
	port := func(p int) int {
		if p == 0 {
			return 22
		}
		return p
	}
	return strings.EqualFold(strings.TrimSpace(a.Address), strings.TrimSpace(b.Address)) && port(a.Port) == port(b.Port)
}

func (o *HostOptions) validate(transport string) error {
	if o.Jump != nil {
		j := o.Jump
		j.Address = strings.TrimSpace(j.Address)
		switch {
		case transport != inventory.TransportSSH:
			return Errorf(EINVALID, "options.jump: only ssh hosts go through a jump host")
		case j.Address == "" || strings.ContainsAny(j.Address, " /\\@"):
			return Errorf(EINVALID, "options.jump.address: must be a host name or IP address")
		case j.Port < 0 || j.Port > 65535:
			return Errorf(EINVALID, "options.jump.port: must be between 1 and 65535")
		}
		if j.Port == 0 {
			j.Port = 22
		}
	}
	if o.WinRM != nil {
		if transport != inventory.TransportWinRM {
			o.WinRM = nil // settings of a transport the host no longer uses
		} else if a := o.WinRM.Auth; a != "" && a != "ntlm" && a != "basic" {
			return Errorf(EINVALID, "options.winrm.auth: must be ntlm or basic")
		}
	}
	if (o.Sudo || o.LegacyAlgorithms) && transport != inventory.TransportSSH {
		return Errorf(EINVALID, "options.sudo, options.legacy_algorithms: only for ssh hosts")
	}
	return nil
}

// Snapshot is one stored host report.
type Snapshot struct {
	ID           int64
	WorkspaceID  int64
	HostID       int64
	AgentID      int64
	ReportID     string
	Status       string
	Error        string
	ErrorKind    string
	StartedAt    time.Time
	FinishedAt   time.Time
	ReceivedAt   time.Time
	PackageCount int
	// Report is the full report; filled only when a single snapshot is read.
	Report *inventory.HostReport
}

// Session is a logged-in browser.
type Session struct {
	ID          string // random, only its hash is stored
	UserID      int64
	WorkspaceID int64
	CSRFToken   string
	CreatedAt   time.Time
	ExpiresAt   time.Time
	// Where the login came from, listed to the user with their sessions.
	RemoteIP  string
	UserAgent string
}

// Error codes, mapped to HTTP status codes in one place (server/errors.go).
const (
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	ECONFLICT     = "conflict"
	ETOOLARGE     = "too_large"
	EINTERNAL     = "internal"
)

// Error is an error a user may see: a code and a message safe to show.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, or EINTERNAL for errors not meant for users.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err; internal errors get a
// generic text so that nothing internal leaks.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
