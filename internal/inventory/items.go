package inventory

import "encoding/json"

// Item kinds: what a compliance check may ask the agent to collect. The
// agent serves only these, from its compiled-in catalogue, and refuses
// anything else with an error in the item's result.
const (
	// ItemFile is a file's content. Only files on the agent's allowlist
	// (a built-in list of configuration files, extended by the agent's own
	// config.yaml, never by the server) may be read.
	ItemFile = "file"
	// ItemFileMeta is a file's metadata (owner, group, mode, size): any
	// absolute path, since metadata holds no secrets.
	ItemFileMeta = "file_meta"
	// ItemProbe is a named probe of the catalogue (effective sshd settings,
	// sysctl values, mount options, services, accounts, ...).
	ItemProbe = "probe"
)

// ItemRequest asks for one catalogue item on a host.
type ItemRequest struct {
	Kind string `json:"kind"`
	Name string `json:"name"` // probe name, or an absolute file path
}

// Key identifies the item, e.g. "probe:sshd" or "file_meta:/etc/shadow".
func (r ItemRequest) Key() string { return r.Kind + ":" + r.Name }

// ItemResult is one collected item. Value's shape depends on the item and
// is documented with the catalogue (docs/checks.md). An item that could not
// be collected has Error set; NeedsPrivilege says the scan user lacked the
// right to read it (the check then reports error, not fail).
type ItemResult struct {
	Kind           string          `json:"kind"`
	Name           string          `json:"name"`
	Value          json.RawMessage `json:"value,omitempty"`
	Error          string          `json:"error,omitempty"`
	NeedsPrivilege bool            `json:"needs_privilege,omitempty"`
	DurationMS     int64           `json:"duration_ms,omitempty"`
}

// Key identifies the item like ItemRequest.Key.
func (r ItemResult) Key() string { return r.Kind + ":" + r.Name }
