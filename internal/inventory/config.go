package inventory

import "time"

// Transports a host can be scanned over.
const (
	TransportSSH   = "ssh"
	TransportLocal = "local" // the machine the agent runs on
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
}

// Credential is a decrypted login, sent only over the agent's authenticated
// channel. Its String method never prints secrets.
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
