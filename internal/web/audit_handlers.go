package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/vigil-project/vigil/internal/store"
)

// auditPageSize is the number of entries per audit page.
const auditPageSize = 50

type auditPage struct {
	Filter  store.AuditFilter
	Entries []auditRow
	Total   int
	From    int // 1-based index of the first row shown
	To      int
	PrevURL string
	NextURL string
}

type auditRow struct {
	At          when
	Actor       string
	Action      string
	SubjectType string
	SubjectID   int64
	SubjectURL  string
	Detail      string
	RemoteIP    string
	UserAgent   string
}

func (a *app) handleAudit(w http.ResponseWriter, r *http.Request, rq *request) {
	q := r.URL.Query()
	f := store.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), SubjectType: q.Get("subject_type"), Limit: auditPageSize}
	f.SubjectID, _ = strconv.ParseInt(q.Get("subject_id"), 10, 64)
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	f.Offset = (page - 1) * auditPageSize
	entries, total, err := a.svc.ListAudit(r.Context(), *rq.Actor, f)
	if err != nil {
		a.failed(w, r, rq, "list audit", err)
		return
	}
	now := a.svc.Now()
	p := auditPage{Filter: f, Total: total}
	for _, e := range entries {
		row := auditRow{At: newWhen(e.At, now), Actor: e.Actor, Action: e.Action, SubjectType: e.SubjectType,
			SubjectID: e.SubjectID, Detail: string(e.Detail), RemoteIP: e.RemoteIP, UserAgent: e.UserAgent}
		if row.Detail == "{}" {
			row.Detail = ""
		}
		if e.SubjectType == "host" && e.SubjectID > 0 && e.Action != "host.delete" {
			row.SubjectURL = "/hosts/" + strconv.FormatInt(e.SubjectID, 10)
		}
		p.Entries = append(p.Entries, row)
	}
	if len(entries) > 0 {
		p.From, p.To = f.Offset+1, f.Offset+len(entries)
	}
	pageURL := func(n int) string {
		v := url.Values{}
		for _, k := range []string{"actor", "action", "subject_type", "subject_id"} {
			if s := q.Get(k); s != "" {
				v.Set(k, s)
			}
		}
		if n > 1 {
			v.Set("page", strconv.Itoa(n))
		}
		if len(v) == 0 {
			return "/audit"
		}
		return "/audit?" + v.Encode()
	}
	if page > 1 {
		p.PrevURL = pageURL(page - 1)
	}
	if f.Offset+len(entries) < total {
		p.NextURL = pageURL(page + 1)
	}
	a.render(w, r, http.StatusOK, "audit", pageData{Title: "Audit log", Nav: "audit", Req: rq, Data: p})
}
