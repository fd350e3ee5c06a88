package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/httpx"
)

// maxQueryLen bounds search boxes; longer input is cut, not refused.
const maxQueryLen = 200

func query(r *http.Request) string {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > maxQueryLen {
		q = truncateBytes(q, maxQueryLen)
	}
	return q
}

// truncateBytes cuts s to at most n bytes without splitting a character.
func truncateBytes(s string, n int) string {
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// hostForm is the add-host form as the user filled it. Secrets are not
// kept: a re-rendered form never sends them back to the browser.
type hostForm struct {
	Name     string
	Address  string
	Port     string
	Username string
	Error    string
	winrmForm
}

func (a *app) handleNewHost(w http.ResponseWriter, r *http.Request, rq *request) {
	if !rq.CanWrite() {
		a.forbidden(w, r, rq)
		return
	}
	a.renderHostForm(w, r, rq, http.StatusOK, hostForm{Port: "22"})
}

func (a *app) renderHostForm(w http.ResponseWriter, r *http.Request, rq *request, status int, f hostForm) {
	a.render(w, r, status, "host_new", pageData{Title: "Add host", Nav: "hosts", Req: rq, Data: f})
}

func (a *app) handleCreateHost(w http.ResponseWriter, r *http.Request, rq *request) {
	if !rq.CanWrite() {
		a.forbidden(w, r, rq)
		return
	}
	pf := r.PostForm
	f := hostForm{
		Name:     strings.TrimSpace(pf.Get("name")),
		Address:  strings.TrimSpace(pf.Get("address")),
		Port:     strings.TrimSpace(pf.Get("port")),
		Username: strings.TrimSpace(pf.Get("username")),
	}
	in := domain.HostInput{Name: &f.Name, Address: &f.Address}
	if f.Port != "" {
		port, err := strconv.Atoi(f.Port)
		if err != nil {
			f.Error = "port: must be a number between 1 and 65535"
			a.renderHostForm(w, r, rq, http.StatusBadRequest, f)
			return
		}
		in.Port = &port
	}
	password, key, passphrase := pf.Get("password"), normalizeKey(pf.Get("private_key")), pf.Get("passphrase")
	if f.Username != "" {
		in.Username = &f.Username
	}
	if password != "" {
		in.Password = &password
	}
	if key != "" {
		in.PrivateKey = &key
	}
	if passphrase != "" {
		in.Passphrase = &passphrase
	}
	if f.Username != "" && !in.HasSecret() {
		// Without a secret the service would quietly use the default
		// credential and drop the username; say so instead.
		f.Error = "password, private_key: give a password or a private key for this username, " +
			"or leave the username empty to use the workspace default credentials"
		a.renderHostForm(w, r, rq, http.StatusBadRequest, f)
		return
	}
	if msg := f.readTransport(pf, &in); msg != "" {
		f.Error = msg
		a.renderHostForm(w, r, rq, http.StatusBadRequest, f)
		return
	}
	h, err := a.svc.CreateHost(r.Context(), *rq.Actor, in)
	if err != nil {
		if domain.ErrorCode(err) == domain.EINTERNAL {
			a.serverError(w, r, rq, "create host", err)
			return
		}
		f.Error = domain.ErrorMessage(err)
		a.renderHostForm(w, r, rq, httpx.StatusFor(err), f)
		return
	}
	http.Redirect(w, r, "/hosts/"+strconv.FormatInt(h.ID, 10), http.StatusSeeOther)
}

// normalizeKey undoes what a textarea does to a PEM key: CRLF line ends
// and lost trailing newline.
func normalizeKey(k string) string {
	k = strings.TrimSpace(strings.ReplaceAll(k, "\r\n", "\n"))
	if k == "" {
		return ""
	}
	return k + "\n"
}

// hostID parses the {id} path segment; a malformed one is simply not found.
func hostID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

func (a *app) handleHost(w http.ResponseWriter, r *http.Request, rq *request) {
	id, ok := hostID(r)
	if !ok {
		a.notFound(w, r, rq)
		return
	}
	a.renderHostPage(w, r, rq, id)
}

// handleHostPackages answers the htmx package search with table rows, and
// a plain request (no JavaScript, or a reload) with the whole host page.
func (a *app) handleHostPackages(w http.ResponseWriter, r *http.Request, rq *request) {
	w.Header().Add("Vary", "HX-Request")
	id, ok := hostID(r)
	if !ok {
		a.notFound(w, r, rq)
		return
	}
	if r.Header.Get("HX-Request") != "true" {
		a.renderHostPage(w, r, rq, id)
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
	pl, err := a.packageList(r, rq, h.ID)
	if err != nil {
		a.serverError(w, r, rq, "list packages", err)
		return
	}
	// Keep the address bar in step, so a reload shows the same result.
	w.Header().Set("HX-Replace-Url", pl.pageURL(pl.Page))
	pl.OOB = true
	a.execute(w, r, http.StatusOK, "host", "pkg_partial", pl)
}

func (a *app) renderHostPage(w http.ResponseWriter, r *http.Request, rq *request, id int64) {
	ctx := r.Context()
	h, err := a.svc.GetHost(ctx, *rq.Actor, id)
	if isNotFound(err) {
		a.notFound(w, r, rq)
		return
	} else if err != nil {
		a.serverError(w, r, rq, "get host", err)
		return
	}
	p, err := a.hostPage(r, rq, h)
	if err != nil {
		a.serverError(w, r, rq, "host page", err)
		return
	}
	flash := ""
	if r.URL.Query().Get("labels") == "saved" {
		flash = "Labels saved. Groups and checks are re-evaluated in the background."
	}
	a.render(w, r, http.StatusOK, "host", pageData{Title: h.Name, Nav: "hosts", Req: rq, Flash: flash, Data: p})
}
