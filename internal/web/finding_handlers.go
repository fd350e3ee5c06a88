package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vigil-project/vigil/internal/httpx"
	"github.com/vigil-project/vigil/internal/vuln"
)

// maxReasonLen bounds the reason of a mark.
const maxReasonLen = 1000

// markPage is the form to mark one finding, shown on its own when the
// inline form was refused or when a host page links to it.
type markPage struct {
	Finding findingRow
	Form    markForm
	Back    string
}

// markForm keeps what the user submitted.
type markForm struct {
	Mark    string
	Reason  string
	Expires string
	Error   string
}

// markBack validates the page to return to after marking: a local
// vulnerability or host page, else the vulnerabilities list.
func markBack(back string) string {
	back = safeNext(back)
	u, err := url.Parse(back)
	if back == "" || err != nil || !(strings.HasPrefix(u.Path, "/vulnerabilities") || strings.HasPrefix(u.Path, "/hosts/")) {
		return "/vulnerabilities"
	}
	return back
}

func findingID(r *http.Request) (int64, bool) { return hostID(r) }

func (a *app) handleMarkForm(w http.ResponseWriter, r *http.Request, rq *request) {
	if !rq.CanWrite() {
		a.forbidden(w, r, rq)
		return
	}
	id, ok := findingID(r)
	if !ok {
		a.notFound(w, r, rq)
		return
	}
	f, err := a.svc.Store.GetFinding(r.Context(), rq.Actor.WorkspaceID, id)
	if isNotFound(err) {
		a.notFound(w, r, rq)
		return
	} else if err != nil {
		a.serverError(w, r, rq, "get finding", err)
		return
	}
	form := markForm{Mark: f.Mark, Reason: f.MarkReason}
	if f.MarkExpiresAt != nil {
		form.Expires = day(*f.MarkExpiresAt)
	}
	a.renderMarkForm(w, r, rq, http.StatusOK, f, form, markBack(r.URL.Query().Get("back")))
}

func (a *app) renderMarkForm(w http.ResponseWriter, r *http.Request, rq *request, code int, f *vuln.Finding, form markForm, back string) {
	p := markPage{Finding: newFindingRow(f, a.svc.Now()), Form: form, Back: back}
	a.render(w, r, code, "finding_mark", pageData{Title: "Mark finding", Nav: "vulns", Req: rq, Data: p})
}

// handleMark sets or clears a finding's mark and returns to the page the
// form was on; a refused mark shows the form again with the reason.
func (a *app) handleMark(w http.ResponseWriter, r *http.Request, rq *request) {
	if !rq.CanWrite() {
		a.forbidden(w, r, rq)
		return
	}
	id, ok := findingID(r)
	if !ok {
		a.notFound(w, r, rq)
		return
	}
	pf := r.PostForm
	back := markBack(pf.Get("back"))
	form := markForm{Mark: pf.Get("mark"), Reason: strings.TrimSpace(pf.Get("reason")), Expires: strings.TrimSpace(pf.Get("expires"))}
	kind, expires, msg := parseMark(form, a.svc.Now())
	var err error
	if msg == "" {
		err = a.svc.MarkFinding(r.Context(), *rq.Actor, id, kind, form.Reason, expires)
		if err == nil {
			if !strings.Contains(back, "#") {
				back += "#finding-" + strconv.FormatInt(id, 10)
			}
			http.Redirect(w, r, back, http.StatusSeeOther)
			return
		}
		var done bool
		if msg, done = a.saveRefused(w, r, rq, "mark finding", err); done {
			return
		}
	}
	f, gerr := a.svc.Store.GetFinding(r.Context(), rq.Actor.WorkspaceID, id)
	if isNotFound(gerr) {
		a.notFound(w, r, rq)
		return
	} else if gerr != nil {
		a.serverError(w, r, rq, "get finding", gerr)
		return
	}
	form.Error = msg
	code := http.StatusBadRequest
	if err != nil {
		code = httpx.StatusFor(err)
	}
	a.renderMarkForm(w, r, rq, code, f, form, back)
}

// parseMark reads the form: the mark kind ("clear" removes it) and an
// optional expiry date, the mark lapsing at its start (UTC).
func parseMark(f markForm, now time.Time) (kind string, expires *time.Time, msg string) {
	switch f.Mark {
	case "clear":
		return "", nil, ""
	case vuln.MarkAcceptedRisk, vuln.MarkFalsePositive:
		kind = f.Mark
	default:
		return "", nil, "mark: choose accepted risk or false positive"
	}
	if utf8.RuneCountInString(f.Reason) > maxReasonLen {
		return "", nil, "reason: at most " + strconv.Itoa(maxReasonLen) + " characters"
	}
	if f.Expires != "" {
		t, err := time.Parse("2006-01-02", f.Expires)
		if err != nil {
			return "", nil, "expires: not a date (use YYYY-MM-DD)"
		}
		if !t.After(now) {
			return "", nil, "expires: must be a date after today"
		}
		expires = &t
	}
	return kind, expires, ""
}
