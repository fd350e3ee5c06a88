package store

import (
	"context"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
)

// Accounts is what the workspaces-and-users pages need beyond the basic
// user, membership and session methods of Store.
type Accounts interface {
	// ListUserWorkspaces returns the workspaces a user belongs to, by name.
	ListUserWorkspaces(ctx context.Context, userID int64) ([]domain.WorkspaceRole, error)
	// ListMembers returns a workspace's members, by login.
	ListMembers(ctx context.Context, workspaceID int64) ([]domain.Member, error)
	// CountAdmins counts a workspace's admins, so that the last one is
	// neither removed nor demoted.
	CountAdmins(ctx context.Context, workspaceID int64) (int, error)
	// DeleteMembership removes a user from a workspace along with the
	// user's sessions and API tokens there (ENOTFOUND if not a member).
	DeleteMembership(ctx context.Context, workspaceID, userID int64) error
	SetPasswordHash(ctx context.Context, userID int64, hash string) error

	// ListUserSessions returns a user's unexpired sessions, newest first.
	ListUserSessions(ctx context.Context, userID int64, now time.Time) ([]domain.SessionInfo, error)
	// DeleteUserSession revokes one of the user's sessions (ENOTFOUND when
	// it is not theirs).
	DeleteUserSession(ctx context.Context, userID int64, idHash []byte) error
	// DeleteOtherSessions revokes every session of the user but keep.
	DeleteOtherSessions(ctx context.Context, userID int64, keep []byte) (int64, error)
	// SetSessionWorkspace moves a session to another workspace.
	SetSessionWorkspace(ctx context.Context, idHash []byte, workspaceID int64) error

	// ListAPITokens returns a user's tokens in a workspace, without hashes.
	ListAPITokens(ctx context.Context, workspaceID, userID int64) ([]domain.APIToken, error)
	DeleteAPIToken(ctx context.Context, workspaceID, userID, id int64) error

	CreateInvitation(ctx context.Context, inv *domain.Invitation) error
	// ListInvitations returns a workspace's invitations, newest first.
	ListInvitations(ctx context.Context, workspaceID int64) ([]domain.Invitation, error)
	GetInvitationByHash(ctx context.Context, hash []byte) (*domain.Invitation, error)
	DeleteInvitation(ctx context.Context, workspaceID, id int64) error
	// AcceptInvitation, in one transaction, marks an unused, unexpired
	// invitation used (ECONFLICT otherwise), creates u when u.ID is 0, and
	// gives u the invitation's role in its workspace.
	AcceptInvitation(ctx context.Context, hash []byte, u *domain.User, now time.Time) (*domain.Invitation, error)
}
