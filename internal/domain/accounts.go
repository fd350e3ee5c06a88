package domain

import (
	"encoding/json"
	"time"
)

// Invitation lets someone join a workspace with a role chosen by the admin
// who invited them. The link's token is shown once; only its hash is stored.
// It works once, until it expires.
type Invitation struct {
	ID          int64
	WorkspaceID int64
	Role        string
	Note        string // who it is for, as the inviter wrote it
	TokenHash   []byte
	CreatedBy   int64
	CreatedAt   time.Time
	ExpiresAt   time.Time
	UsedAt      *time.Time
	UsedBy      *int64
}

// Member is a user as listed on a workspace's members page.
type Member struct {
	UserID    int64
	Login     string
	Role      string
	CreatedAt time.Time // when the user was created
}

// SessionInfo is a session as listed to its owner: never the cookie value.
type SessionInfo struct {
	// Key identifies the session for revocation: the hex of its stored
	// hash, which cannot be turned back into the cookie.
	Key         string
	WorkspaceID int64
	CreatedAt   time.Time
	ExpiresAt   time.Time
	LastSeenAt  *time.Time
	RemoteIP    string
	UserAgent   string
}

// WorkspaceRole is one of a user's workspaces and the role held in it.
type WorkspaceRole struct {
	Workspace Workspace
	Role      string
}

// AuditEntry is one change recorded in the audit log. Detail is a short JSON
// object that never holds secrets.
type AuditEntry struct {
	ID          int64
	WorkspaceID int64
	At          time.Time
	UserID      *int64 // nil when an agent or the system acted
	AgentID     *int64
	Actor       string // login, or "agent:<name>", kept when the user goes
	Action      string // e.g. host.create
	SubjectType string // e.g. host
	SubjectID   int64
	Detail      json.RawMessage
	RemoteIP    string
	UserAgent   string
}
