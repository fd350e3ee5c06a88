package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/httpx"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// asset is one embedded static file with its content hash.
type asset struct {
	data  []byte
	hash  string // hex sha256 prefix, used in URLs and as ETag
	ctype string
}

type assets struct{ files map[string]*asset }

func loadAssets() (*assets, error) {
	as := &assets{files: map[string]*asset{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" || strings.HasSuffix(p, ".LICENSE") {
			ct = "text/plain; charset=utf-8"
		}
		as.files[strings.TrimPrefix(p, "static/")] = &asset{data: b, hash: hex.EncodeToString(sum[:])[:16], ctype: ct}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: load static assets: %w", err)
	}
	return as, nil
}

// url returns the cache-busting URL of an asset: the query changes whenever
// the content does, so the file can be cached for a year.
func (as *assets) url(name string) (string, error) {
	f, ok := as.files[name]
	if !ok {
		return "", fmt.Errorf("web: no static asset %q", name)
	}
	return "/static/" + name + "?v=" + f.hash, nil
}

func (a *app) handleStatic(w http.ResponseWriter, r *http.Request) {
	f, ok := a.assets.files[r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("ETag", `"`+f.hash+`"`)
	if r.URL.Query().Get("v") == f.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache") // an old or missing version: revalidate
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.data))
}

// templates holds one parsed template set per page: the layout and shared
// partials plus that page's blocks.
type templates struct{ pages map[string]*template.Template }

var pageFiles = []string{"login", "hosts", "host", "host_new", "credentials", "error", "vulns", "vuln", "finding_mark",
	"compliance", "check", "check_edit", "groups", "group", "members", "account", "invite", "audit",
	"exceptions", "exception", "exception_new", "worklist", "report_group", "reports"}

func loadTemplates(as *assets) (*templates, error) {
	funcs := template.FuncMap{
		"asset":     as.url,
		"csrfField": func() string { return httpx.CSRFField },
		"vulnURL":   vulnURL,
		"markCtx":   newMarkCtx,
		"checkURL":  checkURL,
		"inc":       func(i int) int { return i + 1 },
		"textField": func(name, label, value, err string) textFieldView { return textFieldView{name, label, value, err} },
	}
	base, err := template.New("base").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse templates: %w", err)
	}
	t := &templates{pages: map[string]*template.Template{}}
	for _, name := range slices.Concat(pageFiles, dashPages) {
		c, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if t.pages[name], err = c.ParseFS(templateFS, "templates/"+name+".html"); err != nil {
			return nil, fmt.Errorf("web: parse template %s: %w", name, err)
		}
	}
	return t, nil
}

// pageData is what every page template gets.
type pageData struct {
	Title string
	Nav   string   // active navigation entry: "hosts", "vulns", "compliance" or "settings"
	Req   *request // nil when logged out
	Flash string
	Data  any
}

// render executes a page into a buffer first, so that a template error
// becomes a clean 500 rather than half a page.
func (a *app) render(w http.ResponseWriter, r *http.Request, status int, page string, pd pageData) {
	a.execute(w, r, status, page, "layout", pd)
}

func (a *app) execute(w http.ResponseWriter, r *http.Request, status int, page, name string, data any) {
	t, ok := a.tmpl.pages[page]
	var buf bytes.Buffer
	var err error
	if !ok {
		err = fmt.Errorf("no template %q", page)
	} else {
		err = t.ExecuteTemplate(&buf, name, data)
	}
	if err != nil {
		a.log.Error("web: render template", "page", page, "template", name, "path", r.URL.Path, "err", err)
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store") // pages carry CSRF tokens and inventory data
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorPage struct {
	Status  int
	Heading string
	Message string
}

// renderError shows an error page; rq may be nil for logged-out visitors.
func (a *app) renderError(w http.ResponseWriter, r *http.Request, rq *request, status int, heading, msg string) {
	if r.Header.Get("HX-Request") == "true" {
		// htmx does not swap error responses; keep the body short.
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_, _ = fmt.Fprintln(w, msg)
		return
	}
	a.render(w, r, status, "error", pageData{Title: heading, Req: rq, Data: errorPage{Status: status, Heading: heading, Message: msg}})
}

// serverError logs an unexpected failure with its context and shows a
// generic page: internals never reach the browser.
func (a *app) serverError(w http.ResponseWriter, r *http.Request, rq *request, what string, err error) {
	if ctxDone(r.Context()) {
		a.log.Info("web: request cancelled", "method", r.Method, "path", r.URL.Path, "workspace_id", rq.workspaceID(), "err", err)
		return
	}
	a.log.Error("web: "+what, "method", r.Method, "path", r.URL.Path, "workspace_id", rq.workspaceID(), "err", err)
	a.renderError(w, r, rq, http.StatusInternalServerError, "Something went wrong",
		"The server could not complete this request. The error has been logged; please try again later.")
}

// notFound is the answer for a host that does not exist in the caller's
// workspace: the same whether it exists elsewhere or not at all.
// saveRefused handles the error of a form's save on an existing object:
// the object gone, a change the role may not make and a server fault get
// their pages (done); anything else is for the user to fix and comes back
// as the form's message.
func (a *app) saveRefused(w http.ResponseWriter, r *http.Request, rq *request, what string, err error) (msg string, done bool) {
	switch domain.ErrorCode(err) {
	case domain.ENOTFOUND:
		a.notFound(w, r, rq)
	case domain.EFORBIDDEN:
		a.forbidden(w, r, rq)
	case domain.EINTERNAL:
		a.serverError(w, r, rq, what, err)
	default:
		return domain.ErrorMessage(err), false
	}
	return "", true
}

func (a *app) notFound(w http.ResponseWriter, r *http.Request, rq *request) {
	a.renderError(w, r, rq, http.StatusNotFound, "Not found", "There is no such page in this workspace.")
}

// forbidden answers a viewer who reached a form.
func (a *app) forbidden(w http.ResponseWriter, r *http.Request, rq *request) {
	a.renderError(w, r, rq, http.StatusForbidden, "Read-only access",
		"Your role in this workspace can view hosts but not change them. Ask an administrator for operator access.")
}
