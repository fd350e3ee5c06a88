package domain

// Permission names one thing a role may do. Every service method that reads
// or changes workspace data asks Can(role, permission) — through
// service.Actor.Require — before it touches the store, so the REST API, the
// web app and anything added later share one rule.
type Permission string

// Permissions. The role matrix is in docs/users-and-roles.md; keep it in step.
const (
	// PermView reads anything in the workspace except the audit log.
	PermView Permission = "view"
	// PermAccount changes one's own password, sessions and API tokens.
	PermAccount Permission = "account"
	// PermHosts adds, edits and deletes hosts, their labels and host groups.
	PermHosts Permission = "hosts"
	// PermScans asks agents to scan now.
	PermScans Permission = "scans"
	// PermCredentials sets the logins agents use. Operators hold it: a host
	// cannot be added or fixed without its login, and secrets are write-only,
	// so holding it never reveals one.
	PermCredentials Permission = "credentials"
	// PermExceptions accepts risk or marks false positives on findings and
	// check results.
	PermExceptions Permission = "exceptions"
	// PermPolicy edits checks and which groups they are assigned to. Admin
	// only: changing a check changes what "compliant" means for everyone,
	// an exception with neither reason nor expiry.
	PermPolicy Permission = "policy"
	// PermSettings changes workspace settings: schedule, retention, alert
	// rules and notification channels.
	PermSettings Permission = "settings"
	// PermAgents creates, rotates and revokes agent keys.
	PermAgents Permission = "agents"
	// PermMembers invites users, changes their roles and removes them, and
	// creates workspaces.
	PermMembers Permission = "members"
	// PermAudit reads the audit log.
	PermAudit Permission = "audit"
)

// rolePermissions is the matrix. Admin holds every permission.
var rolePermissions = map[string]map[Permission]bool{
	RoleOperator: {PermView: true, PermAccount: true, PermHosts: true, PermScans: true,
		PermCredentials: true, PermExceptions: true},
	RoleViewer: {PermView: true, PermAccount: true},
}

// Can reports whether role holds permission. Unknown roles hold nothing.
func Can(role string, p Permission) bool {
	if role == RoleAdmin {
		return true
	}
	return rolePermissions[role][p]
}

// ValidRole reports whether role is one of the three roles.
func ValidRole(role string) bool {
	return role == RoleAdmin || role == RoleOperator || role == RoleViewer
}

// Roles lists the roles from most to least powerful, for forms.
func Roles() []string { return []string{RoleAdmin, RoleOperator, RoleViewer} }
