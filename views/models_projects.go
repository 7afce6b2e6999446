package views

import (
	"strconv"
	"strings"
)

// SectionProjects is Nav.Active on the page that lists and manages projects.
const SectionProjects = "projects"

// ProjectOption is one project in the switcher.
type ProjectOption struct {
	ID   int64
	Name string
}

// Path adds the shown project to a list or settings path, so a link opened
// in another tab shows the same project whatever the switcher last chose.
func (n Nav) Path(path string) string {
	if n.ProjectID == 0 {
		return path
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + "project=" + strconv.FormatInt(n.ProjectID, 10)
}

// ProjectParam is the value of the `project` field forms carry.
func (n Nav) ProjectParam() string { return strconv.FormatInt(n.ProjectID, 10) }

// SwitchPath is where the switcher goes: the list page of the current
// section (an issue page switches to the other project's issue list).
func (n Nav) SwitchPath() string {
	switch n.Active {
	case SectionSymbolSets:
		return "/settings/symbol-sets"
	case SectionNotifications:
		return "/settings/notifications"
	case SectionProject:
		return "/settings/project"
	case SectionProjects:
		return "/settings/projects"
	}
	return "/issues"
}

// ProjectsView is /settings/projects: every project, a create form, and
// per project a rename form and a delete link. Delete, when set, is the
// project whose deletion waits for the person to type its name.
type ProjectsView struct {
	Rows       []ProjectRow
	CreateName string
	Error      string
	Notice     string
	Delete     *ProjectRow
}

// ProjectRow is one project of the list. Issues counts its issues (all statuses).
type ProjectRow struct {
	ID        int64
	Name      string
	Token     string
	Issues    int64
	Current   bool
	CanDelete bool
	// CannotDelete says why CanDelete is false, when it is not the only project.
	CannotDelete string
	RenameURL    string
	DeleteURL    string
	// ConfirmURL shows the confirmation step (GET); DeleteURL performs it (POST).
	ConfirmURL  string
	SettingsURL string
	IssuesURL   string
}
