package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/stacklens/stacklens/db"
	"github.com/stacklens/stacklens/views"
)

const (
	usersPath      = "/settings/users"
	inviteLifetime = 7 * 24 * time.Hour
)

var userNotices = map[string]string{
	"removed":        "User removed. Their sessions ended and their API keys stopped working.",
	"role":           "Role changed.",
	"invite-revoked": "Invitation revoked: its link no longer works.",
	"key-revoked":    "Key revoked. Requests that send it are now refused.",
}

// requireAdmin refuses members with 403 and a sentence saying what they tried.
func requireAdmin(c echo.Context, what string) error {
	if currentUser(c).IsAdmin {
		return nil
	}
	return echo.NewHTTPError(http.StatusForbidden, "Only admins can "+what+". Ask an admin of this stacklens to do it, or to make you an admin.")
}

// UsersPage lists the team: GET /settings/users.
func (h *Handlers) UsersPage(c echo.Context) error {
	return h.renderUsers(c, http.StatusOK, func(v *views.UsersView) { v.Notice = userNotices[c.QueryParam("done")] })
}

func (h *Handlers) renderUsers(c echo.Context, status int, edit func(*views.UsersView)) error {
	ctx := c.Request().Context()
	nav, _, err := h.nav(c, views.SectionUsers)
	if err != nil {
		return err
	}
	me := currentUser(c)
	users, err := h.accounts.Users(ctx)
	if err != nil {
		return err
	}
	v := views.UsersView{CanManage: me.IsAdmin, InviteURL: usersPath + "/invites"}
	emails := map[int64]string{}
	for _, u := range users {
		emails[u.ID] = u.Email
		row := views.UserRow{ID: u.ID, Email: u.Email, Admin: u.IsAdmin, You: u.ID == me.ID, Created: u.CreatedAt,
			RoleURL: fmt.Sprintf("%s/%d/role", usersPath, u.ID), RemoveURL: fmt.Sprintf("%s/%d/delete", usersPath, u.ID)}
		if me.IsAdmin || u.ID == me.ID {
			keys, err := h.accounts.APIKeys(ctx, u.ID)
			if err != nil {
				return err
			}
			for _, k := range keys {
				row.Keys = append(row.Keys, views.APIKeyRow{ID: k.ID, Label: k.Label, Mask: k.Mask, Created: k.CreatedAt,
					LastUsed: k.LastUsedAt, RevokeURL: fmt.Sprintf("/settings/project/api-keys/%d/revoke", k.ID)})
			}
		}
		v.Users = append(v.Users, row)
	}
	if me.IsAdmin {
		invites, err := h.accounts.PendingInvites(ctx, time.Now())
		if err != nil {
			return err
		}
		for _, in := range invites {
			by := emails[in.InvitedBy]
			if by == "" {
				by = "a removed user"
			}
			v.Invites = append(v.Invites, views.InviteRow{Email: in.Email, Admin: in.IsAdmin, InvitedBy: by, Created: in.CreatedAt,
				Expires: in.ExpiresAt, RevokeURL: fmt.Sprintf("%s/invites/%d/revoke", usersPath, in.ID)})
		}
	}
	edit(&v)
	return render(c, status, views.UsersPage(nav, v))
}

// checkEmail accepts a plain address such as "ana@example.com".
func checkEmail(email string) bool {
	a, err := mail.ParseAddress(email)
	return err == nil && a.Address == email && len(email) <= 254
}

// checkNewPassword says what is wrong with a chosen password, or "".
func checkNewPassword(password, again string) string {
	switch {
	case len(password) < minPasswordLen:
		return "Choose a password of at least 8 characters."
	case len(password) > 72:
		return "Choose a password of at most 72 bytes (a longer one would be cut short)."
	case password != again:
		return "The two passwords differ."
	}
	return ""
}

// CreateInvite makes an invitation link for `email` with `role` (admin or
// member) and shows it once: POST /settings/users/invites. Admins only.
func (h *Handlers) CreateInvite(c echo.Context) error {
	if err := requireAdmin(c, "invite people"); err != nil {
		return err
	}
	email := strings.TrimSpace(c.FormValue("email"))
	role := c.FormValue("role")
	fail := func(msg string) error {
		return h.renderUsers(c, http.StatusUnprocessableEntity, func(v *views.UsersView) {
			v.Error, v.InviteEmail, v.InviteAdmin = msg, email, role == "admin"
		})
	}
	if !checkEmail(email) {
		return fail("Enter the email address of the person to invite, such as ana@example.com.")
	}
	if role != "admin" && role != "member" {
		return fail("Choose the role Admin or Member.")
	}
	token := randomToken()
	_, err := h.accounts.CreateInvite(c.Request().Context(), HashSecret(token), email, role == "admin", currentUser(c).ID, time.Now().Add(inviteLifetime))
	if errors.Is(err, db.ErrExists) {
		return fail(email + " already has an account.")
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return h.renderUsers(c, http.StatusCreated, func(v *views.UsersView) {
		v.NewInviteURL, v.NewInviteEmail = h.publicURL(c)+"/invite/"+url.PathEscape(token), email
	})
}

// RevokeInvite cancels a pending invitation: POST /settings/users/invites/{id}/revoke.
func (h *Handlers) RevokeInvite(c echo.Context) error {
	if err := requireAdmin(c, "revoke invitations"); err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such pending invitation.")
	}
	err = h.accounts.RevokeInvite(c.Request().Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such pending invitation; it may have been accepted, revoked or have expired.")
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, usersPath+"?done=invite-revoked")
}

// userParam is the user in the :id path parameter.
func (h *Handlers) userParam(c echo.Context) (db.User, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return db.User{}, echo.NewHTTPError(http.StatusNotFound, "There is no such user.")
	}
	u, err := h.accounts.UserByID(c.Request().Context(), id)
	if errors.Is(err, db.ErrNotFound) {
		return db.User{}, echo.NewHTTPError(http.StatusNotFound, "There is no such user; they may have been removed.")
	}
	return u, err
}

// SetUserRole makes a user an admin or a member (`role`): POST /settings/users/{id}/role.
func (h *Handlers) SetUserRole(c echo.Context) error {
	if err := requireAdmin(c, "change roles"); err != nil {
		return err
	}
	u, err := h.userParam(c)
	if err != nil {
		return err
	}
	role := c.FormValue("role")
	if role != "admin" && role != "member" {
		return h.renderUsers(c, http.StatusUnprocessableEntity, func(v *views.UsersView) { v.Error = "Choose the role Admin or Member." })
	}
	err = h.accounts.SetUserAdmin(c.Request().Context(), u.ID, role == "admin")
	if errors.Is(err, db.ErrLastAdmin) {
		return h.renderUsers(c, http.StatusConflict, func(v *views.UsersView) {
			v.Error = u.Email + " is the only admin: make someone else an admin first."
		})
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, usersPath+"?done=role")
}

// RemoveUser deletes a user with their sessions and API keys: POST /settings/users/{id}/delete.
func (h *Handlers) RemoveUser(c echo.Context) error {
	if err := requireAdmin(c, "remove users"); err != nil {
		return err
	}
	u, err := h.userParam(c)
	if err != nil {
		return err
	}
	if u.ID == currentUser(c).ID {
		return h.renderUsers(c, http.StatusConflict, func(v *views.UsersView) {
			v.Error = "You cannot remove yourself: ask another admin to do it."
		})
	}
	err = h.accounts.DeleteUser(c.Request().Context(), u.ID)
	if errors.Is(err, db.ErrLastAdmin) {
		return h.renderUsers(c, http.StatusConflict, func(v *views.UsersView) {
			v.Error = u.Email + " is the only admin and cannot be removed."
		})
	}
	if errors.Is(err, db.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such user; they may have been removed already.")
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, usersPath+"?done=removed")
}

const inviteGone = "This invitation link has expired, was used already or was revoked. Ask an admin for a new one."

// InvitePage shows the form behind an invitation link: GET /invite/{token}.
func (h *Handlers) InvitePage(c echo.Context) error {
	in, err := h.accounts.PendingInvite(c.Request().Context(), HashSecret(c.Param("token")), time.Now())
	if errors.Is(err, db.ErrNotFound) {
		return echo.NewHTTPError(http.StatusGone, inviteGone)
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return render(c, http.StatusOK, views.InvitePage(inviteView(c, in, "")))
}

func inviteView(c echo.Context, in db.Invite, problem string) views.InviteView {
	role := "a member"
	if in.IsAdmin {
		role = "an admin"
	}
	return views.InviteView{Email: in.Email, Role: role, CSRF: csrfToken(c), Error: problem,
		Action: "/invite/" + url.PathEscape(c.Param("token"))}
}

// AcceptInvite creates the invited user with the chosen password and signs
// them in: POST /invite/{token} with password and password_confirm.
func (h *Handlers) AcceptInvite(c echo.Context) error {
	ctx := c.Request().Context()
	tokenHash := HashSecret(c.Param("token"))
	in, err := h.accounts.PendingInvite(ctx, tokenHash, time.Now())
	if errors.Is(err, db.ErrNotFound) {
		return echo.NewHTTPError(http.StatusGone, inviteGone)
	}
	if err != nil {
		return err
	}
	if problem := checkNewPassword(c.FormValue("password"), c.FormValue("password_confirm")); problem != "" {
		return render(c, http.StatusUnprocessableEntity, views.InvitePage(inviteView(c, in, problem)))
	}
	hash, err := HashPassword(c.FormValue("password"))
	if err != nil {
		return err
	}
	user, err := h.accounts.AcceptInvite(ctx, tokenHash, hash, time.Now())
	switch {
	case errors.Is(err, db.ErrNotFound):
		return echo.NewHTTPError(http.StatusGone, inviteGone)
	case errors.Is(err, db.ErrExists):
		return echo.NewHTTPError(http.StatusConflict, in.Email+" already has an account: sign in instead.")
	case err != nil:
		return err
	}
	if err := h.startSession(c, user); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/issues")
}
