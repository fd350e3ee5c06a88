package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/httpx"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/sshkey"
	"github.com/vigil-project/vigil/internal/store"
)

// hostJSON is the REST shape of a host. Credentials are never included.
type hostJSON struct {
	ID                 int64              `json:"id"`
	Name               string             `json:"name"`
	Address            string             `json:"address"`
	Port               int                `json:"port"`
	Transport          string             `json:"transport"`
	Options            domain.HostOptions `json:"options"`
	AgentID            *int64             `json:"agent_id"`
	CredentialID       *int64             `json:"credential_id"`
	Demo               bool               `json:"demo"`
	HostKeyFingerprint string             `json:"host_key_fingerprint,omitempty"`
	OS                 osJSON             `json:"os"`
	Kernel             string             `json:"kernel"`
	PackageCount       int                `json:"package_count"`
	LastScanAt         *time.Time         `json:"last_scan_at"`
	LastSuccessAt      *time.Time         `json:"last_success_at"`
	LastError          string             `json:"last_error"`
	LastErrorKind      string             `json:"last_error_kind,omitempty"`
	Stale              bool               `json:"stale"`
	CreatedAt          time.Time          `json:"created_at"`
	UpdatedAt          time.Time          `json:"updated_at"`
}

type osJSON struct {
	ID        string `json:"id"`
	VersionID string `json:"version_id"`
	Name      string `json:"name"`
}

func (s *Server) hostView(h *domain.Host, interval time.Duration) hostJSON {
	return hostJSON{ID: h.ID, Name: h.Name, Address: h.Address, Port: h.Port, Transport: h.Transport,
		Options: h.Options, AgentID: h.AgentID, CredentialID: h.CredentialID, Demo: h.Demo,
		HostKeyFingerprint: sshkey.Fingerprint(h.HostKey),
		OS:                 osJSON{ID: h.OSID, VersionID: h.OSVersionID, Name: h.OSName},
		Kernel:             h.Kernel, PackageCount: h.PackageCount, LastScanAt: h.LastScanAt, LastSuccessAt: h.LastSuccessAt,
		LastError: h.LastError, LastErrorKind: h.LastErrorKind, Stale: h.Stale(s.svc.Now(), interval),
		CreatedAt: h.CreatedAt, UpdatedAt: h.UpdatedAt}
}

func (s *Server) interval(r *http.Request, workspaceID int64) time.Duration {
	ws, err := s.svc.Store.GetWorkspace(r.Context(), workspaceID)
	if err != nil {
		return time.Hour
	}
	return ws.Schedule.Interval()
}

func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, domain.Errorf(domain.EINVALID, "%s: not a valid ID", name)
	}
	return id, nil
}

func (s *Server) handleListHosts(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	hosts, err := s.svc.ListHosts(r.Context(), *a, store.HostFilter{Query: r.URL.Query().Get("q")})
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	iv := s.interval(r, a.WorkspaceID)
	out := make([]hostJSON, len(hosts))
	for i := range hosts {
		out[i] = s.hostView(&hosts[i], iv)
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (s *Server) handleGetHost(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	h, err := s.svc.GetHost(r.Context(), *a, id)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, s.hostView(h, s.interval(r, a.WorkspaceID)))
}

func (s *Server) handleCreateHost(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	var in domain.HostInput
	if err := httpx.DecodeJSON(w, r, httpx.Limits{Raw: userBodyLimit, Decoded: userBodyLimit}, true, &in); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	h, err := s.svc.CreateHost(r.Context(), *a, in)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	w.Header().Set("Location", "/api/v1/hosts/"+strconv.FormatInt(h.ID, 10))
	httpx.WriteJSON(w, http.StatusCreated, s.hostView(h, s.interval(r, a.WorkspaceID)))
}

func (s *Server) handleUpdateHost(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	var in domain.HostInput
	if err := httpx.DecodeJSON(w, r, httpx.Limits{Raw: userBodyLimit, Decoded: userBodyLimit}, true, &in); err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	h, err := s.svc.UpdateHost(r.Context(), *a, id, in)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, s.hostView(h, s.interval(r, a.WorkspaceID)))
}

func (s *Server) handleDeleteHost(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	id, err := pathID(r, "id")
	if err == nil {
		err = s.svc.DeleteHost(r.Context(), *a, id)
	}
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// snapshotJSON is the REST shape of a stored report.
type snapshotJSON struct {
	ID           int64                 `json:"id"`
	HostID       int64                 `json:"host_id"`
	AgentID      int64                 `json:"agent_id"`
	ReportID     string                `json:"report_id"`
	Status       string                `json:"status"`
	Error        string                `json:"error,omitempty"`
	ErrorKind    string                `json:"error_kind,omitempty"`
	StartedAt    time.Time             `json:"started_at"`
	FinishedAt   time.Time             `json:"finished_at"`
	ReceivedAt   time.Time             `json:"received_at"`
	PackageCount int                   `json:"package_count"`
	Report       *inventory.HostReport `json:"report,omitempty"`
}

func snapshotView(sn *domain.Snapshot) snapshotJSON {
	return snapshotJSON{ID: sn.ID, HostID: sn.HostID, AgentID: sn.AgentID, ReportID: sn.ReportID, Status: sn.Status,
		Error: sn.Error, ErrorKind: sn.ErrorKind, StartedAt: sn.StartedAt, FinishedAt: sn.FinishedAt,
		ReceivedAt: sn.ReceivedAt, PackageCount: sn.PackageCount, Report: sn.Report}
}

// The store answers ENOTFOUND for a host outside the actor's workspace, so
// the snapshot and package handlers need no separate host lookup.
func (s *Server) handleListSnapshots(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	limit := queryInt(r, "limit", 100, 1000)
	snaps, err := s.svc.Store.ListSnapshots(r.Context(), a.WorkspaceID, id, limit)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	out := make([]snapshotJSON, len(snaps))
	for i := range snaps {
		out[i] = snapshotView(&snaps[i])
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (s *Server) handleLatestSnapshot(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	sn, err := s.svc.Store.LatestSnapshot(r.Context(), a.WorkspaceID, id)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, snapshotView(sn))
}

func (s *Server) handleGetSnapshot(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	id, err := pathID(r, "id")
	var sid int64
	if err == nil {
		sid, err = pathID(r, "sid")
	}
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	sn, err := s.svc.Store.GetSnapshot(r.Context(), a.WorkspaceID, id, sid)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, snapshotView(sn))
}

func (s *Server) handleListPackages(w http.ResponseWriter, r *http.Request) {
	a := httpx.ActorFrom(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	f := store.PackageFilter{Query: r.URL.Query().Get("q"), Limit: queryInt(r, "limit", 500, 10000), Offset: queryInt(r, "offset", 0, 1<<30)}
	pkgs, total, err := s.svc.Store.ListPackages(r.Context(), a.WorkspaceID, id, f)
	if err != nil {
		httpx.WriteError(w, r, s.log, err)
		return
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(total))
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"total": total, "offset": f.Offset, "packages": pkgs})
}

func queryInt(r *http.Request, name string, def, max int) int {
	v, err := strconv.Atoi(r.URL.Query().Get(name))
	if err != nil || v < 0 {
		return def
	}
	if v > max {
		return max
	}
	return v
}
