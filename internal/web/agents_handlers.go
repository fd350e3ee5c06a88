package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/vigil-project/vigil/internal/domain"
)

type agentsPage struct {
	Rows []agentRow
	// NewKey is a key just created or rotated: shown in this response
	// only, never stored in the clear.
	NewKey     string
	NewKeyName string
	Error      string
	APIURL     string
}

type agentRow struct {
	ID         int64
	Name       string
	State      status
	Version    string
	KeyPrefix  string
	LastSeen   when
	Hosts      int
	HostsURL   string
	LastRun    when
	RunFor     string
	RunHosts   int
	RunFailed  int
	RunError   string
	RunNowSent bool
	RunNowAt   when
	Revoked    bool
}

func (a *app) agentsPage(r *http.Request, rq *request) (*agentsPage, error) {
	infos, err := a.svc.AgentsOverview(r.Context(), *rq.Actor)
	if err != nil {
		return nil, err
	}
	now := a.svc.Now()
	p := &agentsPage{APIURL: "https://" + r.Host}
	if r.TLS == nil {
		p.APIURL = "http://" + r.Host
	}
	for _, in := range infos {
		row := agentRow{ID: in.ID, Name: in.Name, Version: in.Version, KeyPrefix: in.KeyPrefix, LastSeen: whenPtr(in.LastSeenAt, now),
			Hosts: in.HostCount, HostsURL: hostsURL(url.Values{"agent": {strconv.FormatInt(in.ID, 10)}}), Revoked: in.RevokedAt != nil}
		switch {
		case in.RevokedAt != nil:
			row.State = status{"Revoked", "never"}
		case in.Online:
			row.State = status{"Online", "ok"}
		case in.LastSeenAt == nil:
			row.State = status{"Never connected", "never"}
		default:
			row.State = status{"Offline", "error"}
		}
		if lr := in.State.LastRun; lr != nil {
			row.LastRun, row.RunFor, row.RunHosts, row.RunFailed = newWhen(lr.StartedAt, now), shortDuration(lr.Duration), lr.Hosts, lr.Failed
			row.RunError = truncate(lr.Error, 120)
		}
		if in.State.Pending() {
			row.RunNowSent, row.RunNowAt = true, whenPtr(in.State.RunNowAt, now)
		}
		p.Rows = append(p.Rows, row)
	}
	return p, nil
}

func (a *app) renderAgents(w http.ResponseWriter, r *http.Request, rq *request, status int, flash string, edit func(*agentsPage)) {
	p, err := a.agentsPage(r, rq)
	if err != nil {
		a.serverError(w, r, rq, "agents", err)
		return
	}
	if edit != nil {
		edit(p)
	}
	a.render(w, r, status, "agents", pageData{Title: "Agents", Nav: "agents", Req: rq, Flash: flash, Data: p})
}

func (a *app) handleAgents(w http.ResponseWriter, r *http.Request, rq *request) {
	flash := ""
	switch r.URL.Query().Get("done") {
	case "run":
		flash = "Scan requested: the agent starts it on its next config poll (10 s by default) and reports back here."
	case "revoked":
		flash = "Agent revoked: its key no longer works. Its hosts stay assigned to it until you give them to another agent."
	}
	a.renderAgents(w, r, rq, http.StatusOK, flash, nil)
}

func (a *app) handleCreateAgent(w http.ResponseWriter, r *http.Request, rq *request) {
	name := r.PostForm.Get("name")
	ag, key, err := a.svc.CreateAgent(r.Context(), *rq.Actor, name)
	if err != nil {
		if c := domain.ErrorCode(err); c == domain.EINVALID || c == domain.ECONFLICT {
			a.renderAgents(w, r, rq, http.StatusBadRequest, "", func(p *agentsPage) { p.Error = domain.ErrorMessage(err) })
			return
		}
		a.actionError(w, r, rq, "create agent", err)
		return
	}
	a.renderAgents(w, r, rq, http.StatusOK, "", func(p *agentsPage) { p.NewKey, p.NewKeyName = key, ag.Name })
}

func agentParam(r *http.Request) (int64, bool) { return hostID(r) }

func (a *app) handleAgentRunNow(w http.ResponseWriter, r *http.Request, rq *request) {
	id, ok := agentParam(r)
	if !ok {
		a.notFound(w, r, rq)
		return
	}
	if _, err := a.svc.RunAgentNow(r.Context(), *rq.Actor, id); err != nil {
		a.actionError(w, r, rq, "run now", err)
		return
	}
	http.Redirect(w, r, "/agents?done=run", http.StatusSeeOther)
}

func (a *app) handleRotateAgent(w http.ResponseWriter, r *http.Request, rq *request) {
	id, ok := agentParam(r)
	if !ok {
		a.notFound(w, r, rq)
		return
	}
	key, err := a.svc.RotateAgentKey(r.Context(), *rq.Actor, id)
	if err != nil {
		a.actionError(w, r, rq, "rotate agent key", err)
		return
	}
	name := ""
	if ag, err := a.svc.Store.GetAgent(r.Context(), rq.Actor.WorkspaceID, id); err == nil {
		name = ag.Name
	}
	a.renderAgents(w, r, rq, http.StatusOK, "", func(p *agentsPage) { p.NewKey, p.NewKeyName = key, name })
}

func (a *app) handleRevokeAgent(w http.ResponseWriter, r *http.Request, rq *request) {
	id, ok := agentParam(r)
	if !ok {
		a.notFound(w, r, rq)
		return
	}
	if err := a.svc.RevokeAgent(r.Context(), *rq.Actor, id); err != nil {
		a.actionError(w, r, rq, "revoke agent", err)
		return
	}
	http.Redirect(w, r, "/agents?done=revoked", http.StatusSeeOther)
}
