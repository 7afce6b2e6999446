package views

import "time"

// SectionUsers is Nav.Active on the team page.
const SectionUsers = "users"

// UsersView is /settings/users: the people who can sign in, pending
// invitations, and (for admins) the forms that invite, change roles,
// remove people and revoke their API keys. Members see the list only.
type UsersView struct {
	CanManage bool
	Users     []UserRow
	Invites   []InviteRow
	// NewInviteURL is the link of the invitation just created, shown once.
	NewInviteURL, NewInviteEmail string
	// InviteEmail and InviteAdmin refill the invite form after an error.
	InviteEmail string
	InviteAdmin bool
	InviteURL   string // where the invite form posts
	Error       string
	Notice      string
}

// UserRow is one person. You marks the signed-in user.
type UserRow struct {
	ID        int64
	Email     string
	Admin     bool
	You       bool
	Created   time.Time
	Keys      []APIKeyRow
	RoleURL   string
	RemoveURL string
}

// InviteRow is one pending invitation.
type InviteRow struct {
	Email     string
	Admin     bool
	InvitedBy string
	Created   time.Time
	Expires   time.Time
	RevokeURL string
}

// InviteView is the page behind an invitation link: choose a password
// (POST Action with password, password_confirm and _csrf).
type InviteView struct {
	Email, Role, Action, CSRF, Error string
}

// roleName is how a role is shown.
func roleName(admin bool) string {
	if admin {
		return "Admin"
	}
	return "Member"
}
