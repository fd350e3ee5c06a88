package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/vigil-project/vigil/internal/compliance"
	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/httpx"
	"github.com/vigil-project/vigil/internal/store"
)

// checkEditPage is the check editor.
type checkEditPage struct {
	Form       checkForm
	CancelURL  string
	Severities []option
	Platforms  []option
	Rules      []ruleView
	Groups     []groupView
	Generated  string
	GenError   string
	Hosts      []option // hosts with a successful scan, for "test against host"
	Test       *testView
}

// ruleView is one builder row with its selects.
type ruleView struct {
	Prefix, Label string
	Property      string
	Value         string
	Operators     []option
	Schemes       []option
}

type groupView struct {
	Index  int
	Prefix string
	Op     string
	Rules  []ruleView
}

// testView is the result of "test against host".
type testView struct {
	HostName string
	Status   status
	Reason   string
	Expected string
	Actual   string
	Evidence []evidenceRow
}

type evidenceRow struct{ Key, Value string }

// textFieldView is one optional prose field of the editor.
type textFieldView struct{ Name, Label, Value, Error string }

func newRuleViews(prefix, label string, rows []ruleRow) []ruleView {
	if len(rows) == 0 {
		rows = []ruleRow{{}}
	}
	out := make([]ruleView, len(rows))
	for i, r := range rows {
		op := r.Operator
		if op == "" {
			op = "eq"
		}
		v := ruleView{Prefix: prefix, Label: label + strconv.Itoa(i+1), Property: r.Property, Value: r.Value}
		for _, o := range compliance.RuleOperators {
			v.Operators = append(v.Operators, option{Value: o, Label: operatorLabels[o], Selected: o == op})
		}
		for _, s := range []string{"", "deb", "rpm", "apk"} {
			l := s
			if s == "" {
				l = "host's"
			}
			v.Schemes = append(v.Schemes, option{Value: s, Label: l, Selected: s == r.Scheme})
		}
		out[i] = v
	}
	return out
}

func newTestView(host string, r *compliance.Result) *testView {
	t := &testView{HostName: host, Status: checkStatus(r.Status), Reason: r.Reason, Expected: r.Expected, Actual: r.Actual}
	for k, v := range r.Evidence {
		b, err := json.Marshal(v)
		if err != nil {
			continue
		}
		t.Evidence = append(t.Evidence, evidenceRow{Key: k, Value: string(b)})
	}
	sort.Slice(t.Evidence, func(i, j int) bool { return t.Evidence[i].Key < t.Evidence[j].Key })
	return t
}

// testHosts lists the workspace's hosts that have a snapshot to test on.
func (a *app) testHosts(r *http.Request, rq *request) ([]domain.Host, error) {
	hosts, err := a.svc.ListHosts(r.Context(), *rq.Actor, store.HostFilter{})
	if err != nil {
		return nil, err
	}
	out := hosts[:0]
	for _, h := range hosts {
		if h.LastSuccessAt != nil {
			out = append(out, h)
		}
	}
	return out, nil
}

func (a *app) renderCheckEditor(w http.ResponseWriter, r *http.Request, rq *request, code int, f checkForm, test *testView) {
	hosts, err := a.testHosts(r, rq)
	if err != nil {
		a.serverError(w, r, rq, "list hosts", err)
		return
	}
	if f.Severity == "" {
		f.Severity = compliance.SeverityMedium
	}
	p := checkEditPage{Form: f, Test: test, CancelURL: "/compliance", Rules: newRuleViews("rule_", "Rule ", f.Rules)}
	if f.Original != "" {
		p.CancelURL = checkURL(f.Original)
	}
	for _, s := range compliance.Severities {
		p.Severities = append(p.Severities, option{Value: s, Label: s, Selected: s == f.Severity})
	}
	for _, pl := range editorPlatforms {
		p.Platforms = append(p.Platforms, option{Value: pl, Label: pl, Selected: slices.Contains(f.Platforms, pl)})
	}
	for _, pl := range f.Platforms {
		if !slices.Contains(editorPlatforms, pl) {
			p.Platforms = append(p.Platforms, option{Value: pl, Label: pl, Selected: true})
		}
	}
	for i, g := range f.Groups {
		pre := "g" + strconv.Itoa(i) + "_"
		p.Groups = append(p.Groups, groupView{Index: i, Prefix: pre, Op: g.Op,
			Rules: newRuleViews(pre, "Group "+strconv.Itoa(i+1)+" rule ", g.Rules)})
	}
	p.Generated, p.GenError = f.generated()
	for _, h := range hosts {
		p.Hosts = append(p.Hosts, option{Value: strconv.FormatInt(h.ID, 10), Label: h.Name, Selected: h.ID == f.HostID})
	}
	title := "New check"
	if f.Original != "" {
		title = "Edit " + f.Original
	}
	a.render(w, r, code, "check_edit", pageData{Title: title, Nav: "compliance", Req: rq, Data: p})
}

func (a *app) handleNewCheck(w http.ResponseWriter, r *http.Request, rq *request) {
	if !rq.Can(domain.PermPolicy) {
		a.forbidden(w, r, rq)
		return
	}
	f := checkForm{Mode: "builder", Op: "and"}
	if from := r.URL.Query().Get("from"); from != "" {
		cat, err := a.catalog(r.Context(), rq.Actor.WorkspaceID)
		if err != nil {
			a.serverError(w, r, rq, "check catalog", err)
			return
		}
		c := cat.checks[from]
		if c == nil {
			a.notFound(w, r, rq)
			return
		}
		f = formFromCheck(c)
		f.ID = copyID(c.ID)
		f.Title += " (custom)"
	}
	a.renderCheckEditor(w, r, rq, http.StatusOK, f, nil)
}

// copyID is the ID a copy of a check gets, within the ID length limit.
func copyID(id string) string {
	const suffix = "-custom"
	if len(id)+len(suffix) > compliance.MaxIDLen {
		id = id[:compliance.MaxIDLen-len(suffix)]
	}
	return id + suffix
}

func (a *app) handleEditCheck(w http.ResponseWriter, r *http.Request, rq *request) {
	if !rq.Can(domain.PermPolicy) {
		a.forbidden(w, r, rq)
		return
	}
	id := r.PathValue("id")
	cat, err := a.catalog(r.Context(), rq.Actor.WorkspaceID)
	if err != nil {
		a.serverError(w, r, rq, "check catalog", err)
		return
	}
	c := cat.checks[id]
	switch {
	case c == nil:
		a.notFound(w, r, rq)
		return
	case !cat.own[id]: // built in: edit a copy
		http.Redirect(w, r, "/compliance/checks/new?from="+url.QueryEscape(id), http.StatusSeeOther)
		return
	}
	f := formFromCheck(c)
	f.Original = c.ID
	if pk := cat.pack[id]; pk != "" {
		f.Pack = pk
	}
	a.renderCheckEditor(w, r, rq, http.StatusOK, f, nil)
}

// handleSaveCheck saves the draft, or, by the button pressed, adds a row
// or group to the builder or tests the draft on a host.
func (a *app) handleSaveCheck(w http.ResponseWriter, r *http.Request, rq *request) {
	if !rq.Can(domain.PermPolicy) {
		a.forbidden(w, r, rq)
		return
	}
	f := readCheckForm(r.PostForm)
	action := r.PostForm.Get("action")
	switch {
	case action == "add_rule":
		if len(f.Rules) < maxFormRules {
			f.Rules = append(f.Rules, ruleRow{})
		}
		f.Mode = "builder"
		a.renderCheckEditor(w, r, rq, http.StatusOK, f, nil)
		return
	case action == "add_group":
		if len(f.Groups) < maxFormGroups {
			f.Groups = append(f.Groups, ruleGroupForm{Op: "and", Rules: []ruleRow{{}}})
		}
		f.Mode = "builder"
		a.renderCheckEditor(w, r, rq, http.StatusOK, f, nil)
		return
	case strings.HasPrefix(action, "add_rule:"):
		if i, err := strconv.Atoi(strings.TrimPrefix(action, "add_rule:")); err == nil && i >= 0 && i < len(f.Groups) && len(f.Groups[i].Rules) < maxFormRules {
			f.Groups[i].Rules = append(f.Groups[i].Rules, ruleRow{})
		}
		f.Mode = "builder"
		a.renderCheckEditor(w, r, rq, http.StatusOK, f, nil)
		return
	case action == "test":
		a.testDraft(w, r, rq, f)
		return
	}
	y := f.draft()
	if y == nil {
		a.renderCheckEditor(w, r, rq, http.StatusBadRequest, f, nil)
		return
	}
	cat, err := a.catalog(r.Context(), rq.Actor.WorkspaceID)
	if err != nil {
		a.serverError(w, r, rq, "check catalog", err)
		return
	}
	switch {
	case cat.own[f.ID] && f.Original != f.ID:
		f.fail("id", "this workspace already has a check %q; edit that one or choose another ID", f.ID)
	case builtinPack(cat, f.Pack):
		f.fail("pack", "%q is a built-in pack; name a pack of your own", f.Pack)
	}
	if len(f.Errors) > 0 {
		a.renderCheckEditor(w, r, rq, http.StatusConflict, f, nil)
		return
	}
	c, err := a.svc.SaveCheck(r.Context(), *rq.Actor, y, f.Pack)
	if err != nil {
		code := domain.ErrorCode(err)
		if code != domain.EINVALID && code != domain.ECONFLICT {
			a.saveFailed(w, r, rq, "save check", err)
			return
		}
		if msg := domain.ErrorMessage(err); strings.HasPrefix(msg, "id: ") {
			f.fail("id", "%s", strings.TrimPrefix(msg, "id: "))
		} else {
			f.Error = msg
		}
		a.renderCheckEditor(w, r, rq, httpx.StatusFor(err), f, nil)
		return
	}
	http.Redirect(w, r, checkURL(c.ID)+"?saved=1", http.StatusSeeOther)
}

// testDraft evaluates the unsaved draft on the chosen host's latest
// successful snapshot and shows the result above the form.
func (a *app) testDraft(w http.ResponseWriter, r *http.Request, rq *request, f checkForm) {
	hosts, err := a.testHosts(r, rq)
	if err != nil {
		a.serverError(w, r, rq, "list hosts", err)
		return
	}
	i := slices.IndexFunc(hosts, func(h domain.Host) bool { return h.ID == f.HostID })
	if i < 0 {
		f.fail("host", "choose a host of this workspace with a successful scan")
		a.renderCheckEditor(w, r, rq, http.StatusBadRequest, f, nil)
		return
	}
	y := f.draft()
	if y == nil {
		a.renderCheckEditor(w, r, rq, http.StatusBadRequest, f, nil)
		return
	}
	res, err := a.svc.TestCheck(r.Context(), *rq.Actor, y, f.HostID)
	if err != nil {
		if domain.ErrorCode(err) != domain.EINVALID {
			a.saveFailed(w, r, rq, "test check", err)
			return
		}
		f.Error = domain.ErrorMessage(err)
		a.renderCheckEditor(w, r, rq, http.StatusBadRequest, f, nil)
		return
	}
	a.renderCheckEditor(w, r, rq, http.StatusOK, f, newTestView(hosts[i].Name, res))
}

func (a *app) handleDeleteCheck(w http.ResponseWriter, r *http.Request, rq *request) {
	if !rq.Can(domain.PermPolicy) {
		a.forbidden(w, r, rq)
		return
	}
	id := r.PathValue("id")
	cat, err := a.catalog(r.Context(), rq.Actor.WorkspaceID)
	if err != nil {
		a.serverError(w, r, rq, "check catalog", err)
		return
	}
	if !cat.own[id] { // built-in checks cannot be deleted
		a.notFound(w, r, rq)
		return
	}
	if err := a.svc.DeleteCheck(r.Context(), *rq.Actor, id); err != nil {
		a.saveFailed(w, r, rq, "delete check", err)
		return
	}
	http.Redirect(w, r, "/compliance?deleted="+url.QueryEscape(id), http.StatusSeeOther)
}

// builtinPack reports whether id names one of the built-in packs.
func builtinPack(cat *checkCatalog, id string) bool {
	for _, p := range cat.packs {
		if p.ID == id && p.Builtin {
			return true
		}
	}
	return false
}
