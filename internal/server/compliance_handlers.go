package server

import (
	"io"
	"net/http"
	"strconv"

	"github.com/vigil-project/vigil/internal/compliance"
	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/httpx"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/store"
)

var userLimits = httpx.Limits{Raw: userBodyLimit, Decoded: userBodyLimit}

func (s *Server) handleGetLabels(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	id, err := pathID(r, "id")
	var labels map[string]string
	if err == nil {
		labels, err = s.svc.Store.HostLabels(r.Context(), a.WorkspaceID, id)
	}
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"labels": labels})
}

func (s *Server) handleSetLabels(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	id, err := pathID(r, "id")
	var in struct {
		Labels map[string]string `json:"labels"`
	}
	if err == nil {
		err = httpx.DecodeJSON(w, r, userLimits, true, &in)
	}
	if err == nil {
		err = s.svc.SetHostLabels(r.Context(), *a, id, in.Labels)
	}
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"labels": in.Labels})
}

type groupJSON struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Expression  string `json:"expression"`
	Members     int    `json:"members"`
}

func groupView(g *domain.Group) groupJSON {
	return groupJSON{ID: g.ID, Name: g.Name, Description: g.Description, Expression: g.Expression, Members: g.Members}
}

func (s *Server) handleListGroups(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	gs, err := s.svc.Store.ListGroups(r.Context(), a.WorkspaceID)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	out := make([]groupJSON, len(gs))
	for i := range gs {
		out[i] = groupView(&gs[i])
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (s *Server) handleSaveGroup(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	var id int64
	var err error
	if r.PathValue("id") != "" {
		id, err = pathID(r, "id")
	}
	var in service.GroupInput
	if err == nil {
		err = httpx.DecodeJSON(w, r, userLimits, true, &in)
	}
	var g *domain.Group
	if err == nil {
		g, err = s.svc.SaveGroup(r.Context(), *a, id, in)
	}
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	status := http.StatusOK
	if id == 0 {
		status = http.StatusCreated
		w.Header().Set("Location", "/api/v1/groups/"+strconv.FormatInt(g.ID, 10))
	}
	httpx.WriteJSON(w, status, groupView(g))
}

func (s *Server) handleGetGroup(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	id, err := pathID(r, "id")
	var g *domain.Group
	var hosts []int64
	if err == nil {
		g, err = s.svc.Store.GetGroup(r.Context(), a.WorkspaceID, id)
	}
	if err == nil {
		hosts, err = s.svc.Store.GroupHostIDs(r.Context(), a.WorkspaceID, id)
	}
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	if hosts == nil {
		hosts = []int64{}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"group": groupView(g), "host_ids": hosts})
}

func (s *Server) handleDeleteGroup(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	id, err := pathID(r, "id")
	if err == nil {
		err = s.svc.DeleteGroup(r.Context(), *a, id)
	}
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleSetAssignments(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	id, err := pathID(r, "id")
	var in struct {
		Assignments []struct {
			Kind string `json:"kind"`
			Ref  string `json:"ref"`
		} `json:"assignments"`
	}
	if err == nil {
		err = httpx.DecodeJSON(w, r, userLimits, true, &in)
	}
	as := make([]domain.Assignment, len(in.Assignments))
	for i, x := range in.Assignments {
		as[i] = domain.Assignment{GroupID: id, Kind: x.Kind, Ref: x.Ref}
	}
	if err == nil {
		err = s.svc.SetAssignments(r.Context(), *a, id, as)
	}
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, in)
}

// handleListChecks lists the built-in packs and the workspace's own checks.
func (s *Server) handleListChecks(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	packs, err := compliance.Builtin()
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	custom, err := s.svc.Store.ListChecks(r.Context(), a.WorkspaceID)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	var out []map[string]any
	for _, p := range packs {
		for _, c := range p.Pack.Checks {
			out = append(out, map[string]any{"id": c.ID, "title": c.Title, "severity": c.Severity, "pack": p.Pack.ID,
				"builtin": true, "reference": c.Reference, "platforms": c.Platforms, "needs": c.Needs})
		}
	}
	for _, sc := range custom {
		c, err := compliance.ParseCheck([]byte(sc.YAML))
		if err != nil {
			continue
		}
		out = append(out, map[string]any{"id": c.ID, "title": c.Title, "severity": c.Severity, "pack": sc.PackID,
			"builtin": false, "reference": c.Reference, "platforms": c.Platforms, "needs": c.Needs, "yaml": sc.YAML})
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// readYAMLBody reads a check in YAML (or JSON, which is YAML) within the
// user body limit.
func readYAMLBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, userBodyLimit))
	if err != nil {
		return nil, domain.Errorf(domain.ETOOLARGE, "body larger than %d bytes", userBodyLimit)
	}
	return b, nil
}

func (s *Server) handleSaveCheck(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	b, err := readYAMLBody(w, r)
	var c *compliance.Check
	if err == nil {
		c, err = s.svc.SaveCheck(r.Context(), *a, b, r.URL.Query().Get("pack"))
	}
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, c)
}

func (s *Server) handleDeleteCheck(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	if err := s.svc.DeleteCheck(r.Context(), *a, r.PathValue("id")); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleTestCheck(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	// Refuse before reading the body: a viewer learns nothing from it.
	if err := a.Require(domain.PermPolicy); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	hostID, err := strconv.ParseInt(r.URL.Query().Get("host_id"), 10, 64)
	if err != nil || hostID <= 0 {
		httpx.WriteError(w, r, s.log, domain.Errorf(domain.EINVALID, "host_id: required"))
		return
	}
	b, err := readYAMLBody(w, r)
	var res *compliance.Result
	if err == nil {
		res, err = s.svc.TestCheck(r.Context(), *a, b, hostID)
	}
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, res)
}

func (s *Server) handleCompliance(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	q := r.URL.Query()
	f := store.CheckResultFilter{CheckID: q.Get("check_id"), Status: q.Get("status")}
	for name, dst := range map[string]*int64{"host_id": &f.HostID, "group_id": &f.GroupID} {
		if v := q.Get(name); v != "" {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || id <= 0 {
				httpx.WriteError(w, r, s.log, domain.Errorf(domain.EINVALID, "%s: not a valid ID", name))
				return
			}
			*dst = id
		}
	}
	sum, err := s.svc.Compliance(r.Context(), *a, f, truthy(q.Get("results")))
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, sum)
}
