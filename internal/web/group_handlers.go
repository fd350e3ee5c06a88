package web

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/vigil-project/vigil/internal/compliance"
	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/httpx"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/store"
)

type groupsPage struct {
	Rows []groupRow
	Form groupForm
	Help []factHelp
}

type groupRow struct {
	ID          int64
	URL         string
	Name        string
	Description string
	Expression  string
	Members     int
	Assigned    []string // pack and check IDs
}

// groupForm is the create or edit form as the user filled it, with the
// expression's compile errors located in it.
type groupForm struct {
	Name        string
	Description string
	Expression  string
	Error       string
	Issues      []exprIssue
}

// exprIssue is one compile error with the line it is on and a caret under
// the column, for the form to show.
type exprIssue struct {
	Line, Column int
	Message      string
	Source       string
	Caret        string
}

func newGroupRow(g *domain.Group, as []domain.Assignment) groupRow {
	row := groupRow{ID: g.ID, URL: groupURL(g.ID), Name: g.Name, Description: g.Description, Expression: g.Expression, Members: g.Members}
	for _, x := range as {
		if x.GroupID == g.ID {
			row.Assigned = append(row.Assigned, x.Ref)
		}
	}
	return row
}

func (a *app) handleGroups(w http.ResponseWriter, r *http.Request, rq *request) {
	flash := ""
	if r.URL.Query().Get("deleted") == "1" {
		flash = "Group deleted. Results of checks assigned only through it are removed at the next evaluation."
	}
	a.renderGroups(w, r, rq, http.StatusOK, flash, groupForm{})
}

func (a *app) renderGroups(w http.ResponseWriter, r *http.Request, rq *request, code int, flash string, f groupForm) {
	ctx := r.Context()
	groups, err := a.svc.Store.ListGroups(ctx, rq.Actor.WorkspaceID)
	if err != nil {
		a.serverError(w, r, rq, "list groups", err)
		return
	}
	as, err := a.svc.Store.ListAssignments(ctx, rq.Actor.WorkspaceID)
	if err != nil {
		a.serverError(w, r, rq, "list assignments", err)
		return
	}
	p := groupsPage{Form: f, Help: factsHelp}
	for i := range groups {
		p.Rows = append(p.Rows, newGroupRow(&groups[i], as))
	}
	a.render(w, r, code, "groups", pageData{Title: "Groups", Nav: "compliance", Req: rq, Flash: flash, Data: p})
}

// readGroupForm reads the group fields; the service trims and checks them.
func readGroupForm(r *http.Request) (groupForm, service.GroupInput) {
	pf := r.PostForm
	f := groupForm{Name: strings.TrimSpace(pf.Get("name")), Description: strings.TrimSpace(pf.Get("description")),
		Expression: strings.TrimSpace(strings.ReplaceAll(pf.Get("expression"), "\r\n", "\n"))}
	return f, service.GroupInput{Name: &f.Name, Description: &f.Description, Expression: &f.Expression}
}

// formError turns a refused save into the form's message; ok is false for
// errors that are not the user's to fix.
func formError(f *groupForm, err error) bool {
	if c := domain.ErrorCode(err); c == domain.EINTERNAL || c == domain.ENOTFOUND || c == domain.EFORBIDDEN {
		return false
	}
	f.Error = domain.ErrorMessage(err)
	if strings.HasPrefix(f.Error, "expression:") {
		f.Issues = exprIssues(f.Expression)
	}
	return true
}

func (a *app) handleCreateGroup(w http.ResponseWriter, r *http.Request, rq *request) {
	if !rq.CanWrite() {
		a.forbidden(w, r, rq)
		return
	}
	f, in := readGroupForm(r)
	g, err := a.svc.SaveGroup(r.Context(), *rq.Actor, 0, in)
	if err != nil {
		if !formError(&f, err) {
			a.saveFailed(w, r, rq, "create group", err)
			return
		}
		a.renderGroups(w, r, rq, httpx.StatusFor(err), "", f)
		return
	}
	http.Redirect(w, r, groupURL(g.ID)+"?saved=1", http.StatusSeeOther)
}

// saveFailed answers a save the user cannot fix by editing the form.
func (a *app) saveFailed(w http.ResponseWriter, r *http.Request, rq *request, what string, err error) {
	switch domain.ErrorCode(err) {
	case domain.ENOTFOUND:
		a.notFound(w, r, rq)
	case domain.EFORBIDDEN:
		a.forbidden(w, r, rq)
	default:
		a.serverError(w, r, rq, what, err)
	}
}

// exprIssues compiles the expression again to locate its errors: the
// service's message has the positions, this has the lines to show.
func exprIssues(expr string) []exprIssue {
	_, err := compliance.Compile(expr)
	var ce *compliance.CompileError
	if !errors.As(err, &ce) {
		return nil
	}
	lines := strings.Split(expr, "\n")
	var out []exprIssue
	for _, is := range ce.Issues {
		x := exprIssue{Line: is.Line, Column: is.Column, Message: is.Message}
		if is.Line >= 1 && is.Line <= len(lines) {
			x.Source = lines[is.Line-1]
			var caret strings.Builder
			for i, c := range []rune(x.Source) {
				if i >= is.Column-1 {
					break
				}
				if c == '\t' {
					caret.WriteRune('\t')
				} else {
					caret.WriteRune(' ')
				}
			}
			x.Caret = caret.String() + "^"
		}
		out = append(out, x)
	}
	return out
}

// factHelp is one line of the expression help.
type factHelp struct{ Name, Meaning, Example string }

var factsHelp = []factHelp{
	{"os.id", "os-release ID", `os.id == "debian"`},
	{"os.family", "debian, redhat, alpine, suse or linux", `os.family == "redhat"`},
	{"os.version_id", "os-release VERSION_ID, a string", `os.version_id == "12"`},
	{"os.id_like", "list of os-release ID_LIKE", `"rhel" in os.id_like`},
	{"os.codename", "release codename", `os.codename == "bookworm"`},
	{"labels.<key>", "the host's labels (set on the host page)", `"env" in labels && labels.env == "prod"`},
	{"hostname", "the host's name as it reports it", `hostname.startsWith("web-")`},
	{"kernel.release", "uname -r", `kernel.release.startsWith("6.")`},
	{"packages", "installed package name → version", `"nginx" in packages`},
	{"package_ecosystem", "deb, rpm or apk", `package_ecosystem == "rpm"`},
}

// groupTarget loads the group of the {id} path segment.
func (a *app) groupTarget(w http.ResponseWriter, r *http.Request, rq *request) (*domain.Group, bool) {
	id, ok := hostID(r)
	if !ok {
		a.notFound(w, r, rq)
		return nil, false
	}
	g, err := a.svc.Store.GetGroup(r.Context(), rq.Actor.WorkspaceID, id)
	if isNotFound(err) {
		a.notFound(w, r, rq)
		return nil, false
	} else if err != nil {
		a.serverError(w, r, rq, "get group", err)
		return nil, false
	}
	return g, true
}

func (a *app) handleUpdateGroup(w http.ResponseWriter, r *http.Request, rq *request) {
	if !rq.CanWrite() {
		a.forbidden(w, r, rq)
		return
	}
	g, ok := a.groupTarget(w, r, rq)
	if !ok {
		return
	}
	f, in := readGroupForm(r)
	if _, err := a.svc.SaveGroup(r.Context(), *rq.Actor, g.ID, in); err != nil {
		if !formError(&f, err) {
			a.saveFailed(w, r, rq, "update group", err)
			return
		}
		a.renderGroup(w, r, rq, g, httpx.StatusFor(err), "", &f, "")
		return
	}
	http.Redirect(w, r, groupURL(g.ID)+"?saved=1", http.StatusSeeOther)
}

func (a *app) handleDeleteGroup(w http.ResponseWriter, r *http.Request, rq *request) {
	if !rq.CanWrite() {
		a.forbidden(w, r, rq)
		return
	}
	g, ok := a.groupTarget(w, r, rq)
	if !ok {
		return
	}
	if err := a.svc.DeleteGroup(r.Context(), *rq.Actor, g.ID); err != nil {
		a.saveFailed(w, r, rq, "delete group", err)
		return
	}
	http.Redirect(w, r, "/groups?deleted=1", http.StatusSeeOther)
}

func (a *app) handleSetAssignments(w http.ResponseWriter, r *http.Request, rq *request) {
	if !rq.Can(domain.PermPolicy) {
		a.forbidden(w, r, rq)
		return
	}
	g, ok := a.groupTarget(w, r, rq)
	if !ok {
		return
	}
	var as []domain.Assignment
	for _, kind := range []string{domain.AssignPack, domain.AssignCheck} {
		refs := r.PostForm[kind]
		slices.Sort(refs)
		for _, ref := range slices.Compact(refs) {
			as = append(as, domain.Assignment{GroupID: g.ID, Kind: kind, Ref: ref})
		}
	}
	if err := a.svc.SetAssignments(r.Context(), *rq.Actor, g.ID, as); err != nil {
		if c := domain.ErrorCode(err); c != domain.EINVALID {
			a.saveFailed(w, r, rq, "set assignments", err)
			return
		}
		a.renderGroup(w, r, rq, g, http.StatusBadRequest, "", nil, domain.ErrorMessage(err))
		return
	}
	http.Redirect(w, r, groupURL(g.ID)+"?saved=assignments#assignments", http.StatusSeeOther)
}

// hostNames maps the workspace's host IDs to names, for member lists.
func (a *app) hostNames(r *http.Request, rq *request) (map[int64]*domain.Host, error) {
	hosts, err := a.svc.ListHosts(r.Context(), *rq.Actor, store.HostFilter{})
	if err != nil {
		return nil, err
	}
	out := make(map[int64]*domain.Host, len(hosts))
	for i := range hosts {
		out[hosts[i].ID] = &hosts[i]
	}
	return out, nil
}
