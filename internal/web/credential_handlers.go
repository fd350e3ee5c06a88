package web

import (
	"net/http"
	"strings"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/httpx"
	"github.com/vigil-project/vigil/internal/service"
)

// credentialView is a credential as the settings page shows it: which kind
// of secret is set, never the secret.
type credentialView struct {
	Name      string
	Username  string
	Kind      string
	IsDefault bool
	Updated   when
}

type credentialsPage struct {
	Default *credentialView
	List    []credentialView
	Form    credentialForm
}

// credentialForm keeps what the user typed except the secrets.
type credentialForm struct {
	Username string
	Error    string
}

func secretKind(c *domain.Credential) string {
	switch {
	case c.HasPrivateKey && len(c.SealedPassphrase) > 0:
		return "private key set (with passphrase)"
	case c.HasPrivateKey:
		return "private key set"
	case c.HasPassword:
		return "password set"
	default:
		return "no secret set"
	}
}

func (a *app) handleCredentials(w http.ResponseWriter, r *http.Request, rq *request) {
	flash := ""
	if r.URL.Query().Get("saved") == "1" {
		flash = "Default credentials saved."
	}
	a.renderCredentials(w, r, rq, http.StatusOK, flash, credentialForm{})
}

func (a *app) renderCredentials(w http.ResponseWriter, r *http.Request, rq *request, status int, flash string, f credentialForm) {
	creds, err := a.svc.ListCredentials(r.Context(), *rq.Actor)
	if err != nil {
		a.serverError(w, r, rq, "list credentials", err)
		return
	}
	now := a.svc.Now()
	p := credentialsPage{Form: f}
	for i := range creds {
		c := &creds[i]
		v := credentialView{Name: c.Name, Username: c.Username, Kind: secretKind(c), IsDefault: c.IsDefault,
			Updated: newWhen(c.UpdatedAt, now)}
		if c.IsDefault && p.Default == nil {
			d := v
			p.Default = &d
		}
		p.List = append(p.List, v)
	}
	if p.Form.Username == "" && p.Default != nil && p.Form.Error == "" {
		p.Form.Username = p.Default.Username
	}
	a.render(w, r, status, "credentials", pageData{Title: "Credentials", Nav: "settings", Req: rq, Flash: flash, Data: p})
}

func (a *app) handleSetDefaultCredential(w http.ResponseWriter, r *http.Request, rq *request) {
	if !rq.CanWrite() {
		a.forbidden(w, r, rq)
		return
	}
	pf := r.PostForm
	f := credentialForm{Username: strings.TrimSpace(pf.Get("username"))}
	in := service.CredentialInput{Name: "default", Username: f.Username}
	if v := pf.Get("password"); v != "" {
		in.Password = &v
	}
	if v := normalizeKey(pf.Get("private_key")); v != "" {
		in.PrivateKey = &v
	}
	if v := pf.Get("passphrase"); v != "" {
		in.Passphrase = &v
	}
	if _, err := a.svc.SetDefaultCredential(r.Context(), *rq.Actor, in); err != nil {
		if domain.ErrorCode(err) == domain.EINTERNAL {
			a.serverError(w, r, rq, "set default credential", err)
			return
		}
		f.Error = domain.ErrorMessage(err)
		a.renderCredentials(w, r, rq, httpx.StatusFor(err), "", f)
		return
	}
	http.Redirect(w, r, "/settings/credentials?saved=1", http.StatusSeeOther)
}
