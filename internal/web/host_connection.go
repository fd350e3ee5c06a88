package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/httpx"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/sshkey"
)

func init() { pageFiles = append(pageFiles, "host_connection") }

// connectionForm is a host's SSH connection options as the form shows them.
// Credentials are listed by name and user only; no secret reaches the page.
type connectionForm struct {
	HostID      int64
	HostName    string
	Endpoint    string
	SSH         bool // the options apply to SSH hosts only
	Sudo        bool
	Legacy      bool
	JumpAddress string
	JumpPort    string
	// JumpCredential is a credential ID, or "" for the host's own login.
	JumpCredential string
	// JumpKey is the pinned bastion key's fingerprint, "" before the first
	// scan through it.
	JumpKey     string
	Credentials []credentialOption
	Error       string
}

type credentialOption struct {
	ID       string
	Label    string
	Selected bool
}

func (a *app) handleHostConnection(w http.ResponseWriter, r *http.Request, rq *request) {
	id, ok := hostID(r)
	if !ok {
		a.notFound(w, r, rq)
		return
	}
	h, err := a.svc.GetHost(r.Context(), *rq.Actor, id)
	if isNotFound(err) {
		a.notFound(w, r, rq)
		return
	} else if err != nil {
		a.serverError(w, r, rq, "get host", err)
		return
	}
	f := connectionForm{Sudo: h.Options.Sudo, Legacy: h.Options.LegacyAlgorithms}
	if j := h.Options.Jump; j != nil {
		f.JumpAddress, f.JumpPort, f.JumpKey = j.Address, strconv.Itoa(j.Port), sshkey.Fingerprint(j.HostKey)
		if j.CredentialID != nil {
			f.JumpCredential = strconv.FormatInt(*j.CredentialID, 10)
		}
	}
	flash := ""
	if r.URL.Query().Get("saved") == "1" {
		flash = "Connection options saved. The agent uses them from its next poll."
	}
	a.renderConnection(w, r, rq, http.StatusOK, h, f, flash)
}

func (a *app) renderConnection(w http.ResponseWriter, r *http.Request, rq *request, status int, h *domain.Host, f connectionForm, flash string) {
	creds, err := a.svc.ListCredentials(r.Context(), *rq.Actor)
	if err != nil {
		a.serverError(w, r, rq, "list credentials", err)
		return
	}
	f.HostID, f.HostName, f.SSH = h.ID, h.Name, h.Transport == inventory.TransportSSH
	f.Endpoint = h.Address + ":" + strconv.Itoa(h.Port)
	f.Credentials = nil
	for _, c := range creds {
		id := strconv.FormatInt(c.ID, 10)
		f.Credentials = append(f.Credentials, credentialOption{ID: id, Label: c.Name + " (" + c.Username + ")", Selected: id == f.JumpCredential})
	}
	a.render(w, r, status, "host_connection", pageData{Title: h.Name + ": connection", Nav: "hosts", Req: rq, Flash: flash, Data: f})
}

// handleSaveHostConnection replaces the host's SSH options. The pinned
// bastion key is kept while the bastion's address and port stay the same
// (unless the user asks to forget it); a different bastion is pinned
// afresh on the next scan.
func (a *app) handleSaveHostConnection(w http.ResponseWriter, r *http.Request, rq *request) {
	if !rq.CanWrite() {
		a.forbidden(w, r, rq)
		return
	}
	id, ok := hostID(r)
	if !ok {
		a.notFound(w, r, rq)
		return
	}
	h, err := a.svc.GetHost(r.Context(), *rq.Actor, id)
	if isNotFound(err) {
		a.notFound(w, r, rq)
		return
	} else if err != nil {
		a.serverError(w, r, rq, "get host", err)
		return
	}
	pf := r.PostForm
	f := connectionForm{Sudo: pf.Get("sudo") == "1", Legacy: pf.Get("legacy_algorithms") == "1",
		JumpAddress: strings.TrimSpace(pf.Get("jump_address")), JumpPort: strings.TrimSpace(pf.Get("jump_port")),
		JumpCredential: pf.Get("jump_credential")}
	opts := h.Options // keeps the WinRM settings of the host as they are
	opts.Sudo, opts.LegacyAlgorithms, opts.Jump = f.Sudo, f.Legacy, nil
	fail := func(msg string) {
		f.Error = msg
		a.renderConnection(w, r, rq, http.StatusUnprocessableEntity, h, f, "")
	}
	if f.JumpAddress != "" {
		j := &domain.JumpHost{Address: f.JumpAddress, Port: 22}
		if f.JumpPort != "" {
			p, err := strconv.Atoi(f.JumpPort)
			if err != nil || p < 1 || p > 65535 {
				fail("jump host port: must be a number between 1 and 65535")
				return
			}
			j.Port = p
		}
		if f.JumpCredential != "" {
			cid, err := strconv.ParseInt(f.JumpCredential, 10, 64)
			if err != nil {
				fail("jump host login: choose a credential from the list")
				return
			}
			j.CredentialID = &cid
		}
		opts.Jump = j
	}
	// The domain keeps the pinned bastion key for the same bastion unless
	// asked to forget it.
	in := domain.HostInput{Options: &opts, ResetJumpHostKey: pf.Get("reset_jump_key") == "1"}
	if _, err := a.svc.UpdateHost(r.Context(), *rq.Actor, id, in); err != nil {
		if domain.ErrorCode(err) == domain.EINTERNAL {
			a.serverError(w, r, rq, "update host", err)
			return
		}
		f.Error = domain.ErrorMessage(err)
		a.renderConnection(w, r, rq, httpx.StatusFor(err), h, f, "")
		return
	}
	http.Redirect(w, r, "/hosts/"+strconv.FormatInt(id, 10)+"/connection?saved=1", http.StatusSeeOther)
}
