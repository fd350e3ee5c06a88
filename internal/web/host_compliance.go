package web

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/httpx"
	"github.com/vigil-project/vigil/internal/store"
)

// hostCompliance is the host page's compliance section: its score, its
// results (failures and errors apart from the rest), groups and labels.
type hostCompliance struct {
	HostID   int64
	Score    scoreView
	Problems []hostResultRow // fail and error
	Others   []hostResultRow // pass and not applicable
	Groups   []groupLink
	Labels   []labelView
	Form     labelsForm
}

type hostResultRow struct {
	CheckID  string
	Title    string
	URL      string
	Severity status
	Status   status
	Reason   string
	Expected string
	Actual   string
	Changed  when
	Excepted *exceptedView // an exception covers this failing result
	NewExc   string        // the form to except it
}

type groupLink struct{ Name, URL string }

type labelView struct{ Key, Value string }

// labelsForm is the labels textarea: key=value lines.
type labelsForm struct {
	Text  string
	Error string
}

func (a *app) hostCompliance(ctx context.Context, rq *request, h *domain.Host) (hostCompliance, error) {
	ws := rq.Actor.WorkspaceID
	hc := hostCompliance{HostID: h.ID}
	sum, err := a.svc.Compliance(ctx, *rq.Actor, store.CheckResultFilter{HostID: h.ID}, true)
	if err != nil {
		return hc, fmt.Errorf("compliance summary: %w", err)
	}
	hc.Score = newScore(sum)
	cat, err := a.catalog(ctx, ws)
	if err != nil {
		return hc, err
	}
	sortResults(sum.Results, cat, false)
	now := a.svc.Now()
	for _, res := range sum.Results {
		row := hostResultRow{CheckID: res.CheckID, Title: cat.title(res.CheckID), URL: checkURL(res.CheckID),
			Severity: checkSeverity(cat.severity(res.CheckID)), Status: checkStatus(res.Status),
			Reason: res.Reason, Expected: res.Expected, Actual: res.Actual, Changed: newWhen(res.ChangedAt, now),
			Excepted: newExcepted(&res, now), NewExc: newCheckExceptionURL(res.CheckID, h.ID, "/hosts/"+strconv.FormatInt(h.ID, 10)+"#compliance")}
		if row.Excepted != nil {
			row.Status = exceptedStatus
		} else if !rq.CanWrite() || (res.Status != domain.CheckFail && res.Status != domain.CheckError) {
			row.NewExc = ""
		}
		if res.Status == domain.CheckFail || res.Status == domain.CheckError {
			hc.Problems = append(hc.Problems, row)
		} else {
			hc.Others = append(hc.Others, row)
		}
	}
	ids, err := a.svc.Store.HostGroupIDs(ctx, ws, h.ID)
	if err != nil {
		return hc, fmt.Errorf("host groups: %w", err)
	}
	if len(ids) > 0 {
		groups, err := a.svc.Store.ListGroups(ctx, ws)
		if err != nil {
			return hc, fmt.Errorf("list groups: %w", err)
		}
		in := map[int64]bool{}
		for _, id := range ids {
			in[id] = true
		}
		for _, g := range groups {
			if in[g.ID] {
				hc.Groups = append(hc.Groups, groupLink{Name: g.Name, URL: groupURL(g.ID)})
			}
		}
	}
	labels, err := a.svc.Store.HostLabels(ctx, ws, h.ID)
	if err != nil {
		return hc, fmt.Errorf("host labels: %w", err)
	}
	var lines []string
	for k, v := range labels {
		hc.Labels = append(hc.Labels, labelView{Key: k, Value: v})
	}
	sort.Slice(hc.Labels, func(i, j int) bool { return hc.Labels[i].Key < hc.Labels[j].Key })
	for _, l := range hc.Labels {
		lines = append(lines, l.Key+"="+l.Value)
	}
	hc.Form.Text = strings.Join(lines, "\n")
	return hc, nil
}

// maxLabelLines bounds the textarea before the service sees it.
const maxLabelLines = 200

// parseLabels reads key=value lines; blank lines and # comments are skipped.
// The service checks the keys and values themselves.
func parseLabels(text string) (map[string]string, string) {
	out := map[string]string{}
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	if len(lines) > maxLabelLines {
		return nil, "labels: at most " + strconv.Itoa(maxLabelLines) + " lines"
	}
	for i, line := range lines {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case !ok || k == "":
			return nil, fmt.Sprintf("line %d: write key=value, e.g. environment=prod", i+1)
		case hasKey(out, k):
			return nil, fmt.Sprintf("line %d: label %q is given twice", i+1, k)
		}
		out[k] = v
	}
	return out, ""
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }

// handleSetLabels replaces a host's labels and goes back to the host page;
// refused labels show the page again with the text as typed.
func (a *app) handleSetLabels(w http.ResponseWriter, r *http.Request, rq *request) {
	if !rq.CanWrite() {
		a.forbidden(w, r, rq)
		return
	}
	id, ok := hostID(r)
	if !ok {
		a.notFound(w, r, rq)
		return
	}
	ctx := r.Context()
	h, err := a.svc.GetHost(ctx, *rq.Actor, id)
	if isNotFound(err) {
		a.notFound(w, r, rq)
		return
	} else if err != nil {
		a.serverError(w, r, rq, "get host", err)
		return
	}
	text := r.PostForm.Get("labels")
	labels, msg := parseLabels(text)
	code := http.StatusBadRequest
	if msg == "" {
		err = a.svc.SetHostLabels(ctx, *rq.Actor, h.ID, labels)
		switch {
		case err == nil:
			http.Redirect(w, r, "/hosts/"+strconv.FormatInt(h.ID, 10)+"?labels=saved#compliance", http.StatusSeeOther)
			return
		case domain.ErrorCode(err) == domain.EINVALID:
			msg, code = domain.ErrorMessage(err), httpx.StatusFor(err)
		default:
			a.saveFailed(w, r, rq, "set host labels", err)
			return
		}
	}
	p, err := a.hostPage(r, rq, h)
	if err != nil {
		a.serverError(w, r, rq, "host page", err)
		return
	}
	p.Compliance.Form = labelsForm{Text: text, Error: msg}
	a.render(w, r, code, "host", pageData{Title: h.Name, Nav: "hosts", Req: rq, Data: p})
}
