package web

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/vuln/sapnotes"
)

// The SAP pages are registered here rather than in render.go's list, so
// the feature stays in its own files.
func init() { pageFiles = append(pageFiles, "sap_systems", "sap_notes", "sap_settings") }

// loadSAPScope sets rq.SAP for the navigation. A failure only hides the
// SAP entry: the pages themselves still answer.
func (a *app) loadSAPScope(r *http.Request, rq *request) {
	on, err := a.svc.Store.SAPInScope(r.Context(), rq.Actor.WorkspaceID)
	if err != nil {
		a.log.Warn("web: SAP scope", "workspace_id", rq.workspaceID(), "err", err)
		return
	}
	rq.SAP = on
}

type sapBadge struct{ Class, Label string }

func priorityBadge(p string) sapBadge {
	class := map[string]string{sapnotes.PriorityHotNews: "critical", sapnotes.PriorityHigh: "high",
		sapnotes.PriorityMedium: "medium", sapnotes.PriorityLow: "low"}[p]
	if class == "" {
		class = "unknown"
	}
	return sapBadge{Class: class, Label: p}
}

type sapSystemRow struct {
	SID, Host, HostURL string
	Instances          []string
	Kernel             string
	KernelSource       string
	Database           string
	Components         []inventory.SAPComponent
	Transport          string
	TransportWarn      bool
	Sources            []inventory.SAPSource
	Scanned            when
}

type sapSystemsPage struct {
	InScope bool
	Rows    []sapSystemRow
}

func (a *app) handleSAPSystems(w http.ResponseWriter, r *http.Request, rq *request) {
	rows, err := a.svc.SAPSystems(r.Context(), *rq.Actor)
	if err != nil {
		a.serverError(w, r, rq, "list SAP systems", err)
		return
	}
	now := a.svc.Now()
	p := sapSystemsPage{InScope: rq.SAP}
	for _, row := range rows {
		s := row.System
		v := sapSystemRow{SID: s.SID, Host: row.HostName, HostURL: fmt.Sprintf("/hosts/%d", row.HostID), Sources: s.Sources,
			Components: s.Components, Scanned: newWhen(row.ScannedAt, now)}
		for _, in := range s.Instances {
			label := in.Name + " (" + in.Type + ")"
			if in.Host != "" {
				label += " on " + in.Host
			}
			v.Instances = append(v.Instances, label)
		}
		if k := s.Kernel; k != nil {
			v.Kernel = k.Release
			if k.PatchLevel != "" {
				v.Kernel += " patch " + k.PatchLevel
			}
			v.KernelSource = k.Source
		}
		if db := s.Database; db != nil {
			v.Database = strings.TrimSpace(db.Product + " " + db.Version)
			if db.Version == "" {
				v.Database += " (version not readable)"
			}
		}
		if t := s.Transport; t != nil {
			v.Transport = fmt.Sprintf("%d queued, %d failed", t.QueueDepth, t.FailedImports)
			if t.LastImport != nil {
				v.Transport += fmt.Sprintf("; last %s rc %d (%s)", t.LastImport.Request, t.LastImport.ReturnCode, t.LastImport.Status)
			}
			v.TransportWarn = t.FailedImports > 0
		}
		p.Rows = append(p.Rows, v)
	}
	a.render(w, r, http.StatusOK, "sap_systems", pageData{Title: "SAP systems", Nav: "sap", Req: rq, Data: p})
}

type sapNoteRow struct {
	Number, Title, URL string
	Priority           sapBadge
	CVSS               string
	CVEs               []service.SAPCVE
	KEV                bool
	DaysOpen           int
	Systems            []string
	Findings           []sapFindingRow
}

type sapFindingRow struct {
	System, Verdict, Reason, Level string
	Status, Resolution             string
}

type sapTab struct {
	Key, Label, URL string
	Count           int
	Current         bool
}

type sapNotesPage struct {
	InScope  bool
	Tab      string
	Tabs     []sapTab
	Rows     []sapNoteRow
	CanWrite bool
	Error    string
}

func (a *app) handleSAPNotes(w http.ResponseWriter, r *http.Request, rq *request) {
	tab := r.URL.Query().Get("tab")
	if tab == "" {
		tab = service.SAPTabUnresolved
	}
	all, err := a.svc.SAPNotes(r.Context(), *rq.Actor, "")
	if err != nil {
		a.serverError(w, r, rq, "list SAP notes", err)
		return
	}
	p := sapNotesPage{InScope: rq.SAP, Tab: tab, CanWrite: rq.Can(domain.PermExceptions)}
	counts := map[string]int{}
	for _, v := range all {
		counts[v.Tab]++
	}
	for _, t := range []struct{ key, label string }{{service.SAPTabUnresolved, "Unresolved"}, {service.SAPTabManualReview, "Manual review"}, {service.SAPTabResolved, "Resolved"}} {
		p.Tabs = append(p.Tabs, sapTab{Key: t.key, Label: t.label, URL: "/sap/notes?tab=" + t.key, Count: counts[t.key], Current: t.key == tab})
	}
	for _, v := range all {
		if v.Tab != tab {
			continue
		}
		n := v.Note
		row := sapNoteRow{Number: n.Number, Title: n.Title, URL: n.URL, Priority: priorityBadge(n.Priority), CVEs: v.CVEs,
			KEV: v.KEV, DaysOpen: v.DaysOpen, Systems: v.Systems}
		if n.CVSSScore > 0 {
			row.CVSS = strconv.FormatFloat(n.CVSSScore, 'f', 1, 64)
		}
		for _, f := range v.Findings {
			fr := sapFindingRow{System: f.SID + " on " + f.HostName, Verdict: f.Verdict, Reason: f.Reason, Status: f.Status}
			if f.Installed != "" || f.Fixed != "" {
				fr.Level = strings.TrimSpace(f.Installed + " → fixed " + f.Fixed)
			}
			if f.ResolvedManually {
				fr.Resolution = "resolved by " + f.ResolvedBy + ": " + f.ResolveReason
			} else if f.Status == sapnotes.FindingResolved {
				fr.Resolution = "no longer matches"
			}
			row.Findings = append(row.Findings, fr)
		}
		p.Rows = append(p.Rows, row)
	}
	flash := ""
	if n := r.URL.Query().Get("resolved"); n != "" {
		flash = "Note " + n + " resolved. It stays resolved across rescans until reopened."
	} else if n := r.URL.Query().Get("reopened"); n != "" {
		flash = "Note " + n + " reopened; the next match decides again."
	}
	a.render(w, r, http.StatusOK, "sap_notes", pageData{Title: "SAP Security Notes", Nav: "sap", Req: rq, Flash: flash, Data: p})
}

// handleSAPNoteAction resolves a note by hand with a reason, or reopens it.
func (a *app) handleSAPNoteAction(w http.ResponseWriter, r *http.Request, rq *request) {
	note := r.PathValue("note")
	if _, err := strconv.ParseUint(note, 10, 64); err != nil || len(note) < 6 || len(note) > 8 {
		a.notFound(w, r, rq)
		return
	}
	action := r.PathValue("action")
	if action != "resolve" && action != "reopen" {
		a.notFound(w, r, rq)
		return
	}
	done := "resolved"
	var err error
	if action == "reopen" {
		done = "reopened"
		_, err = a.svc.ReopenSAPNote(r.Context(), *rq.Actor, note, 0)
	} else {
		_, err = a.svc.ResolveSAPNote(r.Context(), *rq.Actor, note, 0, r.PostForm.Get("reason"))
	}
	switch code := domain.ErrorCode(err); {
	case err == nil:
		http.Redirect(w, r, "/sap/notes?tab="+url.QueryEscape(r.PostForm.Get("tab"))+"&"+done+"="+note, http.StatusSeeOther)
	case code == domain.EFORBIDDEN:
		a.forbidden(w, r, rq)
	case code == domain.ENOTFOUND:
		a.notFound(w, r, rq)
	case code == domain.EINVALID:
		a.renderError(w, r, rq, http.StatusBadRequest, "Not resolved", domain.ErrorMessage(err))
	default:
		a.serverError(w, r, rq, "SAP note "+done, err)
	}
}

type sapSettingsPage struct {
	InScope  bool
	CanWrite bool
	Systems  int
	Notes    int
	SIDs     []string
	// Database logins for the component table.
	Logins       []domain.SAPDBLogin
	Credentials  []domain.Credential // those with a password, for the form
	CanLogins    bool
	LoginForm    sapDBLoginForm
	LoginCreated bool
}

// sapDBLoginForm keeps what the user typed, except the password.
type sapDBLoginForm struct {
	SID, CredentialID, Username, Address, Database, Schema string
	Error                                                  string
}

// handleSAPSettings shows and sets the workspace's "SAP in scope" flag.
func (a *app) handleSAPSettings(w http.ResponseWriter, r *http.Request, rq *request) {
	if r.Method == http.MethodPost {
		err := a.svc.SetSAPInScope(r.Context(), *rq.Actor, r.PostForm.Get("sap_in_scope") == "on")
		switch code := domain.ErrorCode(err); {
		case err == nil:
			http.Redirect(w, r, "/settings/sap?saved=1", http.StatusSeeOther)
		case code == domain.EFORBIDDEN:
			a.forbidden(w, r, rq)
		default:
			a.serverError(w, r, rq, "set SAP scope", err)
		}
		return
	}
	flash := ""
	switch r.URL.Query().Get("saved") {
	case "1":
		flash = "Saved. Agents pick up the change at their next configuration pull."
	case "login":
		flash = "Database login saved. Agents use it from their next configuration pull."
	case "deleted":
		flash = "Database login deleted."
	}
	a.renderSAPSettings(w, r, rq, http.StatusOK, flash, sapDBLoginForm{})
}

func (a *app) renderSAPSettings(w http.ResponseWriter, r *http.Request, rq *request, status int, flash string, f sapDBLoginForm) {
	on, err := a.svc.SAPInScope(r.Context(), *rq.Actor)
	if err != nil {
		a.serverError(w, r, rq, "SAP scope", err)
		return
	}
	p := sapSettingsPage{InScope: on, CanWrite: rq.Can(domain.PermSettings), CanLogins: rq.Can(domain.PermCredentials), LoginForm: f}
	if p.Logins, err = a.svc.ListSAPDBLogins(r.Context(), *rq.Actor); err != nil {
		a.serverError(w, r, rq, "list SAP database logins", err)
		return
	}
	creds, err := a.svc.ListCredentials(r.Context(), *rq.Actor)
	if err != nil {
		a.serverError(w, r, rq, "list credentials", err)
		return
	}
	for _, c := range creds {
		if c.HasPassword {
			p.Credentials = append(p.Credentials, c)
		}
	}
	rows, err := a.svc.SAPSystems(r.Context(), *rq.Actor)
	if err != nil {
		a.serverError(w, r, rq, "list SAP systems", err)
		return
	}
	p.Systems = len(rows)
	for _, row := range rows {
		p.SIDs = append(p.SIDs, row.System.SID+" on "+row.HostName)
	}
	sort.Strings(p.SIDs)
	if notes, err := a.svc.Store.SAPNotes(r.Context()); err == nil {
		p.Notes = len(notes)
	}
	a.render(w, r, status, "sap_settings", pageData{Title: "SAP settings", Nav: "settings", Req: rq, Flash: flash, Data: p})
}

// handleCreateSAPDBLogin saves a database login: with a stored credential
// chosen from the list, or with a username and password typed here, which
// become a credential of their own (named after the SID).
func (a *app) handleCreateSAPDBLogin(w http.ResponseWriter, r *http.Request, rq *request) {
	if !rq.Can(domain.PermCredentials) {
		// Before the form is read: a viewer learns nothing from its errors.
		a.forbidden(w, r, rq)
		return
	}
	f := sapDBLoginForm{SID: strings.ToUpper(strings.TrimSpace(r.PostForm.Get("sid"))), CredentialID: r.PostForm.Get("credential_id"),
		Username: strings.TrimSpace(r.PostForm.Get("username")), Address: strings.TrimSpace(r.PostForm.Get("address")),
		Database: strings.TrimSpace(r.PostForm.Get("database")), Schema: strings.TrimSpace(r.PostForm.Get("schema"))}
	password := r.PostForm.Get("password")
	refuse := func(msg string) {
		f.Error = msg
		a.renderSAPSettings(w, r, rq, http.StatusUnprocessableEntity, "", f)
	}
	in := domain.SAPDBLogin{SID: f.SID, Address: f.Address, Database: f.Database, Schema: f.Schema}
	var created *domain.Credential
	switch {
	case f.CredentialID != "":
		id, err := strconv.ParseInt(f.CredentialID, 10, 64)
		if err != nil {
			refuse("choose a credential from the list")
			return
		}
		in.CredentialID = id
	case f.Username != "" && password != "":
		name := "sap-db-" + strings.ToLower(f.SID)
		if f.SID == "" {
			name = "sap-db-all"
		}
		c, err := a.svc.CreateCredential(r.Context(), *rq.Actor, service.CredentialInput{Name: name, Username: f.Username, Password: &password})
		if err != nil {
			if code := domain.ErrorCode(err); code == domain.EFORBIDDEN {
				a.forbidden(w, r, rq)
			} else if code == domain.EINVALID || code == domain.ECONFLICT {
				refuse(domain.ErrorMessage(err))
			} else {
				a.serverError(w, r, rq, "create credential", err)
			}
			return
		}
		created, in.CredentialID = c, c.ID
	default:
		refuse("choose a stored credential, or give a username and a password")
		return
	}
	_, err := a.svc.CreateSAPDBLogin(r.Context(), *rq.Actor, in)
	if err != nil && created != nil {
		// The credential was made for this login only.
		if derr := a.svc.DeleteCredential(r.Context(), *rq.Actor, created.ID); derr != nil {
			a.log.Error("delete credential of a refused SAP login", "credential_id", created.ID, "err", derr)
		}
	}
	switch code := domain.ErrorCode(err); {
	case err == nil:
		http.Redirect(w, r, "/settings/sap?saved=login", http.StatusSeeOther)
	case code == domain.EFORBIDDEN:
		a.forbidden(w, r, rq)
	case code == domain.EINVALID || code == domain.ECONFLICT || code == domain.ENOTFOUND:
		refuse(domain.ErrorMessage(err))
	default:
		a.serverError(w, r, rq, "create SAP database login", err)
	}
}

func (a *app) handleDeleteSAPDBLogin(w http.ResponseWriter, r *http.Request, rq *request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil {
		err = a.svc.DeleteSAPDBLogin(r.Context(), *rq.Actor, id)
	} else {
		err = domain.Errorf(domain.ENOTFOUND, "no such login")
	}
	switch code := domain.ErrorCode(err); {
	case err == nil:
		http.Redirect(w, r, "/settings/sap?saved=deleted", http.StatusSeeOther)
	case code == domain.EFORBIDDEN:
		a.forbidden(w, r, rq)
	case code == domain.ENOTFOUND:
		a.notFound(w, r, rq)
	default:
		a.serverError(w, r, rq, "delete SAP database login", err)
	}
}
