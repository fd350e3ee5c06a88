package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/alert"
	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/httpx"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/secrets"
	"github.com/vigil-project/vigil/internal/server"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/store/sqlite"
	"github.com/vigil-project/vigil/internal/vuln"
	"github.com/vigil-project/vigil/internal/web"
)

// routeRule says what a route needs. The table below must name every route
// the server and the web app register (TestRoutePermissions fails on a
// missing or a stale entry), so a new handler cannot skip the role checks
// unnoticed.
type routeRule struct {
	// perm is the permission the route needs; public routes need none.
	perm   domain.Permission
	public bool
	// agent routes take an agent key, never a user.
	agent bool
	// object names what the path's {id} (and {sid}) point at; such a
	// route must answer 404 to a member of another workspace.
	object string
	// global names shared data (a CVE from the feeds) that {id} points at:
	// every workspace may read it.
	global string
}

const (
	pView   = domain.PermView
	pAcct   = domain.PermAccount
	pHosts  = domain.PermHosts
	pScans  = domain.PermScans
	pCreds  = domain.PermCredentials
	pExc    = domain.PermExceptions
	pPolicy = domain.PermPolicy
	pAgents = domain.PermAgents
	pSet    = domain.PermSettings
	pMemb   = domain.PermMembers
	pAudit  = domain.PermAudit
)

var routeTable = map[string]routeRule{
	// Infrastructure and catch-alls.
	"GET /healthz": {public: true},
	"GET /metrics": {public: true},
	"/api/":        {public: true},
	"/":            {public: true},

	// Agent API.
	"GET /api/v1/agent/config":   {agent: true},
	"POST /api/v1/agent/reports": {agent: true},
	"POST /api/v1/agent/status":  {agent: true},

	// REST API.
	"GET /api/v1/hosts":                       {perm: pView},
	"POST /api/v1/hosts":                      {perm: pHosts},
	"GET /api/v1/hosts/{id}":                  {perm: pView, object: "host"},
	"PATCH /api/v1/hosts/{id}":                {perm: pHosts, object: "host"},
	"PUT /api/v1/hosts/{id}":                  {perm: pHosts, object: "host"},
	"DELETE /api/v1/hosts/{id}":               {perm: pHosts, object: "host"},
	"GET /api/v1/hosts/{id}/snapshots":        {perm: pView, object: "host"},
	"GET /api/v1/hosts/{id}/snapshots/latest": {perm: pView, object: "host"},
	"GET /api/v1/hosts/{id}/snapshots/{sid}":  {perm: pView, object: "host"},
	"GET /api/v1/hosts/{id}/packages":         {perm: pView, object: "host"},
	"GET /api/v1/hosts/{id}/labels":           {perm: pView, object: "host"},
	"PUT /api/v1/hosts/{id}/labels":           {perm: pHosts, object: "host"},
	"GET /api/v1/hosts/{id}/sbom":             {perm: pView, object: "host"},
	"GET /api/v1/credentials":                 {perm: pView},
	"POST /api/v1/credentials":                {perm: pCreds},
	"DELETE /api/v1/credentials/{id}":         {perm: pCreds, object: "credential"},
	"PUT /api/v1/credentials/default":         {perm: pCreds},
	"GET /api/v1/agents":                      {perm: pView},
	"POST /api/v1/agents":                     {perm: pAgents},
	"POST /api/v1/agents/{id}/run-now":        {perm: pScans, object: "agent"},
	"POST /api/v1/agents/{id}/rotate":         {perm: pAgents, object: "agent"},
	"POST /api/v1/agents/{id}/revoke":         {perm: pAgents, object: "agent"},
	"GET /api/v1/dashboard":                   {perm: pView},
	"GET /api/v1/findings":                    {perm: pView},
	"POST /api/v1/findings/{id}/mark":         {perm: pExc, object: "finding"},
	"GET /api/v1/vulnerabilities":             {perm: pView},
	"GET /api/v1/vulnerabilities/{id}":        {perm: pView, global: "cve"},
	"GET /api/v1/feeds":                       {perm: pView},
	"GET /api/v1/groups":                      {perm: pView},
	"POST /api/v1/groups":                     {perm: pHosts},
	"GET /api/v1/groups/{id}":                 {perm: pView, object: "group"},
	"PATCH /api/v1/groups/{id}":               {perm: pHosts, object: "group"},
	"DELETE /api/v1/groups/{id}":              {perm: pHosts, object: "group"},
	"PUT /api/v1/groups/{id}/assignments":     {perm: pPolicy, object: "group"},
	"GET /api/v1/checks":                      {perm: pView},
	"POST /api/v1/checks":                     {perm: pPolicy},
	"DELETE /api/v1/checks/{id}":              {perm: pPolicy, object: "check"},
	"POST /api/v1/checks/test":                {perm: pPolicy},
	"GET /api/v1/compliance":                  {perm: pView},
	"GET /api/v1/exceptions":                  {perm: pView},
	"POST /api/v1/exceptions":                 {perm: pExc},
	"GET /api/v1/exceptions/history":          {perm: pView},
	"GET /api/v1/exceptions/{id}":             {perm: pView, object: "exception"},
	"PATCH /api/v1/exceptions/{id}":           {perm: pExc, object: "exception"},
	"POST /api/v1/exceptions/{id}/revoke":     {perm: pExc, object: "exception"},
	"DELETE /api/v1/exceptions/{id}":          {perm: pExc, object: "exception"},
	"GET /api/v1/worklist":                    {perm: pView},
	"GET /api/v1/me":                          {perm: pAcct},
	"PUT /api/v1/me/password":                 {perm: pAcct},
	"GET /api/v1/tokens":                      {perm: pAcct},
	"POST /api/v1/tokens":                     {perm: pAcct},
	"DELETE /api/v1/tokens/{id}":              {perm: pAcct, object: "token"},
	"GET /api/v1/sessions":                    {perm: pAcct},
	"DELETE /api/v1/sessions/{key}":           {perm: pAcct, object: "session"},
	"GET /api/v1/workspaces":                  {perm: pAcct},
	"POST /api/v1/workspaces":                 {perm: pMemb},
	"GET /api/v1/members":                     {perm: pMemb},
	"PATCH /api/v1/members/{id}":              {perm: pMemb, object: "member"},
	"DELETE /api/v1/members/{id}":             {perm: pMemb, object: "member"},
	"GET /api/v1/invitations":                 {perm: pMemb},
	"POST /api/v1/invitations":                {perm: pMemb},
	"DELETE /api/v1/invitations/{id}":         {perm: pMemb, object: "invitation"},
	"GET /api/v1/audit":                       {perm: pAudit},
	"GET /api/v1/channels":                    {perm: pView},
	"POST /api/v1/channels":                   {perm: pSet},
	"GET /api/v1/channels/{id}":               {perm: pView, object: "channel"},
	"PUT /api/v1/channels/{id}":               {perm: pSet, object: "channel"},
	"DELETE /api/v1/channels/{id}":            {perm: pSet, object: "channel"},
	"POST /api/v1/channels/{id}/test":         {perm: pSet, object: "channel"},
	"GET /api/v1/channels/{id}/notifications": {perm: pView, object: "channel"},
	"GET /api/v1/alert-rules":                 {perm: pView},
	"POST /api/v1/alert-rules":                {perm: pSet},
	"GET /api/v1/alert-rules/{id}":            {perm: pView, object: "alert_rule"},
	"PUT /api/v1/alert-rules/{id}":            {perm: pSet, object: "alert_rule"},
	"DELETE /api/v1/alert-rules/{id}":         {perm: pSet, object: "alert_rule"},
	"GET /api/v1/alerts":                      {perm: pView},
	"GET /api/v1/alerts/{id}":                 {perm: pView, object: "alert"},
	"GET /api/v1/alert-settings":              {perm: pView},
	"PUT /api/v1/alert-settings":              {perm: pSet},
	"GET /api/v1/sap/systems":                 {perm: pView},
	"GET /api/v1/sap/notes":                   {perm: pView},
	"POST /api/v1/sap/notes/{note}/resolve":   {perm: pExc, global: "sap_note"},
	"DELETE /api/v1/sap/notes/{note}/resolve": {perm: pExc, global: "sap_note"},
	"GET /api/v1/sap/scope":                   {perm: pView},
	"PUT /api/v1/sap/scope":                   {perm: pSet},
	"GET /api/v1/sap/db-logins":               {perm: pView},
	"POST /api/v1/sap/db-logins":              {perm: pCreds},
	"DELETE /api/v1/sap/db-logins/{id}":       {perm: pCreds, object: "sap_db_login"},

	// Web app.
	"GET /static/{file...}":                    {public: true},
	"GET /login":                               {public: true},
	"POST /login":                              {public: true},
	"GET /invite/{token}":                      {public: true},
	"POST /invite/{token}":                     {public: true},
	"GET /{$}":                                 {public: true}, // a redirect to /hosts
	"GET /settings":                            {public: true}, // a redirect to /settings/credentials
	"POST /logout":                             {perm: pAcct},
	"GET /hosts":                               {perm: pView},
	"GET /hosts/new":                           {perm: pHosts},
	"POST /hosts":                              {perm: pHosts},
	"GET /hosts/{id}":                          {perm: pView, object: "host"},
	"GET /hosts/{id}/packages":                 {perm: pView, object: "host"},
	"POST /hosts/{id}/labels":                  {perm: pHosts, object: "host"},
	"GET /hosts/{id}/connection":               {perm: pView, object: "host"},
	"POST /hosts/{id}/connection":              {perm: pHosts, object: "host"},
	"GET /vulnerabilities":                     {perm: pView},
	"GET /vulnerabilities/export":              {perm: pView},
	"GET /vulnerabilities/{id}":                {perm: pView, global: "cve"},
	"GET /findings/{id}/mark":                  {perm: pExc, object: "finding"},
	"POST /findings/{id}/mark":                 {perm: pExc, object: "finding"},
	"GET /compliance":                          {perm: pView},
	"GET /compliance/checks/new":               {perm: pPolicy},
	"POST /compliance/checks":                  {perm: pPolicy},
	"GET /compliance/checks/{id}":              {perm: pView, object: "check"},
	"GET /compliance/checks/{id}/edit":         {perm: pPolicy, object: "check"},
	"POST /compliance/checks/{id}/delete":      {perm: pPolicy, object: "check"},
	"GET /groups":                              {perm: pView},
	"POST /groups":                             {perm: pHosts},
	"GET /groups/{id}":                         {perm: pView, object: "group"},
	"POST /groups/{id}":                        {perm: pHosts, object: "group"},
	"POST /groups/{id}/delete":                 {perm: pHosts, object: "group"},
	"POST /groups/{id}/assignments":            {perm: pPolicy, object: "group"},
	"GET /settings/credentials":                {perm: pView},
	"POST /settings/credentials/default":       {perm: pCreds},
	"POST /workspace/switch":                   {perm: pAcct},
	"POST /workspaces":                         {perm: pMemb},
	"GET /settings/members":                    {perm: pMemb},
	"POST /settings/members/{id}/role":         {perm: pMemb, object: "member"},
	"POST /settings/members/{id}/remove":       {perm: pMemb, object: "member"},
	"POST /settings/invitations":               {perm: pMemb},
	"POST /settings/invitations/{id}/revoke":   {perm: pMemb, object: "invitation"},
	"GET /account":                             {perm: pAcct},
	"POST /account/password":                   {perm: pAcct},
	"POST /account/sessions/{key}/revoke":      {perm: pAcct, object: "session"},
	"POST /account/tokens":                     {perm: pAcct},
	"POST /account/tokens/{id}/revoke":         {perm: pAcct, object: "token"},
	"GET /audit":                               {perm: pAudit},
	"GET /exceptions":                          {perm: pView},
	"GET /exceptions/export":                   {perm: pView},
	"GET /exceptions/new":                      {perm: pExc},
	"POST /exceptions":                         {perm: pExc},
	"GET /exceptions/{id}":                     {perm: pView, object: "exception"},
	"POST /exceptions/{id}":                    {perm: pExc, object: "exception"},
	"POST /exceptions/{id}/revoke":             {perm: pExc, object: "exception"},
	"GET /hosts/{id}/sbom":                     {perm: pView, object: "host"},
	"GET /reports/groups/{id}":                 {perm: pView, object: "group"},
	"GET /reports":                             {perm: pView},
	"POST /reports/schedules":                  {perm: pSet},
	"POST /reports/schedules/delete":           {perm: pSet},
	"GET /worklist":                            {perm: pView},
	"GET /worklist/export":                     {perm: pView},
	"GET /sap":                                 {public: true}, // a redirect to /sap/notes
	"GET /sap/systems":                         {perm: pView},
	"GET /sap/notes":                           {perm: pView},
	"POST /sap/notes/{note}/{action}":          {perm: pExc, global: "sap_note"},
	"GET /settings/sap":                        {perm: pView},
	"POST /settings/sap":                       {perm: pSet},
	"POST /settings/sap/db-logins":             {perm: pCreds},
	"POST /settings/sap/db-logins/{id}/delete": {perm: pCreds, object: "sap_db_login"},
	"GET /dashboard":                           {perm: pView},
	"GET /agents":                              {perm: pView},
	"POST /agents":                             {perm: pAgents},
	"POST /agents/{id}/revoke":                 {perm: pAgents, object: "agent"},
	"POST /agents/{id}/rotate":                 {perm: pAgents, object: "agent"},
	"POST /agents/{id}/run-now":                {perm: pScans, object: "agent"},
	"GET /hosts/{id}/diff":                     {perm: pView, object: "host"},
	"POST /hosts/bulk":                         {perm: pHosts},
	"POST /hosts/filters":                      {perm: pHosts},
	"POST /hosts/filters/group":                {perm: pHosts},
	"POST /hosts/filters/{id}/delete":          {perm: pHosts, object: "saved_filter"},
	"GET /alerts":                              {perm: pView},
	"GET /alerts/{id}":                         {perm: pView, object: "alert"},
	"GET /alert-rules":                         {perm: pView},
	"GET /alert-rules/new":                     {perm: pSet},
	"POST /alert-rules":                        {perm: pSet},
	"GET /alert-rules/{id}":                    {perm: pView, object: "alert_rule"},
	"POST /alert-rules/{id}":                   {perm: pSet, object: "alert_rule"},
	"POST /alert-rules/{id}/delete":            {perm: pSet, object: "alert_rule"},
	"POST /alert-settings":                     {perm: pSet},
	"GET /settings/channels":                   {perm: pView},
	"GET /settings/channels/new":               {perm: pSet},
	"POST /settings/channels":                  {perm: pSet},
	"GET /settings/channels/{id}":              {perm: pView, object: "channel"},
	"POST /settings/channels/{id}":             {perm: pSet, object: "channel"},
	"POST /settings/channels/{id}/test":        {perm: pSet, object: "channel"},
	"POST /settings/channels/{id}/delete":      {perm: pSet, object: "channel"},
	"GET /settings/general":                    {perm: pView},
	"POST /settings/schedule":                  {perm: pSet},
	"POST /settings/retention":                 {perm: pSet},
	"GET /settings/feeds/progress":             {perm: pView},
	"POST /settings/feeds/sync":                {perm: pSet},
}

// caller is one identity the walk uses: a bearer token for the API, a
// session cookie and its CSRF token for the web app.
type caller struct {
	name   string
	token  string
	cookie string
	csrf   string
}

// routeWorld is a server with the web app, two workspaces, and one object
// of every kind in the first.
type routeWorld struct {
	t        *testing.T
	svc      *service.Service
	srv      *server.Server
	ts       *httptest.Server
	ids      map[string]string // object kind -> an ID of that kind in workspace A
	sid      string            // a snapshot of the host
	inviteTk string
	admin    caller // admin of A
	viewer   caller // viewer in A
	operator caller // operator in A
	intruder caller // admin of B, not a member of A
}

func newRouteWorld(t *testing.T) *routeWorld {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key := make([]byte, secrets.KeySize)
	rand.Read(key)
	sealer, _ := secrets.NewSealer(key)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := service.New(st, sealer, log)
	svc.NoBackground = true
	res, err := svc.Bootstrap(ctx, "pw-admin-123456")
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	wsA := res.Workspace
	adminU, err := st.GetUserByLogin(ctx, service.AdminLogin)
	must(err)
	admin := service.Actor{UserID: adminU.ID, Login: adminU.Login, WorkspaceID: wsA.ID, Role: domain.RoleAdmin}
	wsB, err := svc.CreateWorkspace(ctx, admin, "Tenant B", "tenant-b")
	must(err)

	w := &routeWorld{t: t, svc: svc, ids: map[string]string{}}
	newUser := func(login string, ws int64, role string) service.Actor {
		u := &domain.User{Login: login, PasswordHash: "x"}
		must(st.CreateUser(ctx, u))
		must(st.SetMembership(ctx, domain.Membership{WorkspaceID: ws, UserID: u.ID, Role: role}))
		return service.Actor{UserID: u.ID, Login: login, WorkspaceID: ws, Role: role}
	}
	viewer := newUser("viewer", wsA.ID, domain.RoleViewer)
	operator := newUser("operator", wsA.ID, domain.RoleOperator)
	intruder := newUser("intruder", wsB.ID, domain.RoleAdmin)
	login := func(name string, a service.Actor) caller {
		_, tok, err := svc.NewAPIToken(ctx, a, "walk")
		must(err)
		cookie, sess, err := svc.StartSession(ctx, &a)
		must(err)
		return caller{name: name, token: tok, cookie: cookie, csrf: sess.CSRFToken}
	}
	w.admin, w.viewer, w.intruder = login("admin", admin), login("viewer", viewer), login("intruder", intruder)
	w.operator = login("operator", operator)

	// One object of each kind in workspace A.
	ag, _, err := svc.CreateAgentKey(ctx, wsA.ID, "agent-a")
	must(err)
	name, addr, user, pw := "web-01", "192.0.2.10", "scan", "secret-pw"
	h, err := svc.CreateHost(ctx, admin, domain.HostInput{Name: &name, Address: &addr, AgentID: &ag.ID, Username: &user, Password: &pw})
	must(err)
	now := time.Now().UTC()
	rep := &inventory.HostReport{SchemaVersion: inventory.SchemaVersion, ReportID: "r-1", HostID: h.ID,
		StartedAt: now.Add(-time.Second), FinishedAt: now, Status: inventory.StatusOK,
		System:   inventory.System{OS: inventory.OS{ID: "debian", VersionID: "12", Family: "debian"}},
		Packages: []inventory.Package{{Name: "openssl", Version: "3.0.11-1~deb12u2", Arch: "amd64", Ecosystem: inventory.EcosystemDeb}}}
	_, err = st.IngestReport(ctx, wsA.ID, ag.ID, rep, now)
	must(err)
	snaps, err := st.ListSnapshots(ctx, wsA.ID, h.ID, 1)
	must(err)
	cred, err := svc.CreateCredential(ctx, admin, service.CredentialInput{Name: "named", Username: "scan", Password: &pw})
	must(err)
	dbLogin, err := svc.CreateSAPDBLogin(ctx, admin, domain.SAPDBLogin{SID: "PRD", CredentialID: cred.ID})
	must(err)
	gname := "linux"
	g, err := svc.SaveGroup(ctx, admin, 0, service.GroupInput{Name: &gname, Expression: ptr(`os.family == "debian"`)})
	must(err)
	_, err = svc.SaveCheck(ctx, admin, []byte("id: tenant-a-only\ntitle: Mine\nseverity: low\ncondition: os.id == \"debian\"\n"), "")
	must(err)
	_, err = st.UpsertCVEs(ctx, []*vuln.CVE{{ID: "CVE-2024-0001", Status: "Analyzed", Description: "openssl overflow"}})
	must(err)
	_, err = st.SyncFindings(ctx, wsA.ID, h.ID, []vuln.Finding{{VulnID: "CVE-2024-0001", AdvisoryID: "DSA-1", Source: "osv:Debian:12",
		Package: "openssl", Installed: "3.0.11-1~deb12u2", Fixed: "3.0.13-1~deb12u1", Rule: "r", Severity: "critical"}}, now)
	must(err)
	fs, _, err := st.ListFindings(ctx, wsA.ID, store.FindingFilter{HostID: h.ID, Now: now})
	must(err)
	if len(fs) != 1 {
		t.Fatalf("%d findings", len(fs))
	}
	ch, err := svc.CreateChannel(ctx, admin, service.ChannelInput{Name: "hook", Kind: "webhook",
		Config: alert.ChannelConfig{URL: "https://hooks.example.com/vigil"}})
	must(err)
	rule, err := svc.CreateAlertRule(ctx, admin, alert.Rule{Name: "critical", Event: alert.EventNewFinding, Enabled: true,
		Filter: alert.Filter{MinSeverity: "critical"}, ChannelIDs: []int64{ch.ID}, Mode: alert.ModeDaily})
	must(err)
	_, err = svc.EvaluateHostAlerts(ctx, wsA.ID, h.ID)
	must(err)
	alerts, _, err := st.ListAlerts(ctx, wsA.ID, store.AlertFilter{})
	must(err)
	if len(alerts) == 0 {
		t.Fatal("the fixture raised no alert")
	}
	exc, err := svc.CreateException(ctx, admin, domain.ExceptionInput{Target: "finding", Kind: domain.ExceptionAcceptedRisk,
		VulnID: "CVE-2024-0001", Scope: domain.ScopeHost, HostID: h.ID, Reason: "compensating control"})
	must(err)
	sf, err := svc.SaveHostFilter(ctx, admin, "web servers", "q=web")
	must(err)
	inv, invTok, err := svc.Invite(ctx, admin, domain.RoleViewer, "", 0)
	must(err)
	vtoks, err := svc.ListAPITokens(ctx, viewer)
	must(err)

	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	w.ids = map[string]string{
		"host": id(h.ID), "credential": id(cred.ID), "group": id(g.ID), "check": "tenant-a-only",
		"finding": id(fs[0].ID), "cve": "CVE-2024-0001", "exception": id(exc.ID), "agent": id(ag.ID),
		"member": id(viewer.UserID), "token": id(vtoks[0].ID), "invitation": id(inv.ID),
		"session":  service.SessionKey(w.viewer.cookie),
		"sap_note": "3089413", "saved_filter": id(sf.ID), "channel": id(ch.ID), "alert_rule": id(rule.ID), "alert": id(alerts[0].ID),
		"sap_db_login": id(dbLogin.ID),
	}
	w.sid = id(snaps[0].ID)
	w.inviteTk = invTok

	// The other workspace has objects of its own, so that "not found"
	// cannot come from an empty tenant.
	adminB := admin
	adminB.WorkspaceID = wsB.ID
	nameB := "b-01"
	_, err = svc.CreateHost(ctx, adminB, domain.HostInput{Name: &nameB, Address: &addr})
	must(err)

	wh, err := web.New(svc, log, web.Options{})
	must(err)
	w.srv = server.New(svc, log, server.Options{Web: wh})
	w.ts = httptest.NewServer(w.srv)
	t.Cleanup(w.ts.Close)
	return w
}

func ptr[T any](v T) *T { return &v }

var paramRE = regexp.MustCompile(`\{([a-z]+)(\.\.\.)?\}`)

// request builds a concrete request for a route pattern.
func (w *routeWorld) request(t *testing.T, pattern string, rule routeRule, c *caller) *http.Request {
	t.Helper()
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = http.MethodGet, pattern
	}
	path = strings.TrimSuffix(path, "{$}")
	path = paramRE.ReplaceAllStringFunc(path, func(m string) string {
		switch name := paramRE.FindStringSubmatch(m)[1]; name {
		case "id":
			kind := rule.object
			if rule.global != "" {
				kind = rule.global
			}
			v, ok := w.ids[kind]
			if !ok {
				t.Fatalf("%s: no fixture object for {id} (object %q)", pattern, rule.object)
			}
			return url.PathEscape(v)
		case "sid":
			return w.sid
		case "key":
			return w.ids["session"]
		case "token":
			return w.inviteTk
		case "file":
			return "app.css"
		case "note":
			return w.ids["sap_note"]
		case "action":
			return "resolve"
		default:
			t.Fatalf("%s: unknown path parameter {%s}", pattern, name)
			return ""
		}
	})
	api := strings.HasPrefix(path, "/api/")
	var body io.Reader
	ctype := ""
	if method != http.MethodGet && method != http.MethodHead {
		if api {
			body, ctype = strings.NewReader("{}"), "application/json"
		} else {
			f := url.Values{}
			if c != nil {
				f.Set(httpx.CSRFField, c.csrf)
			}
			body, ctype = strings.NewReader(f.Encode()), "application/x-www-form-urlencoded"
		}
	}
	req, err := http.NewRequest(method, w.ts.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c != nil {
		if api {
			req.Header.Set("Authorization", "Bearer "+c.token)
		} else {
			req.AddCookie(&http.Cookie{Name: httpx.SessionCookie, Value: c.cookie})
			req.Header.Set(httpx.CSRFHeader, c.csrf)
		}
	}
	return req
}

func (w *routeWorld) sendBody(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (w *routeWorld) send(t *testing.T, req *http.Request) *http.Response {
	t.Helper()
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// inlineCode finds what the Content-Security-Policy (no 'unsafe-inline')
// would block: inline scripts, event handler attributes, style attributes
// and elements, javascript: URLs.
var inlineCode = regexp.MustCompile(`(?i)<script[^>]*>\s*[^<\s]|\son[a-z]+\s*=|\sstyle\s*=|<style|javascript:`)

// checkPageSecurity checks an HTML page's security headers and that it has
// no inline code the policy would block.
func checkPageSecurity(t *testing.T, route string, resp *http.Response, body []byte) {
	t.Helper()
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "style-src 'self'") || strings.Contains(csp, "unsafe-inline") ||
		!strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("%s: Content-Security-Policy %q", route, csp)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("%s: no X-Content-Type-Options", route)
	}
	for _, m := range inlineCode.FindAll(body, -1) {
		// A JSON data island is not code: browsers do not run it.
		if !bytes.Contains(m, []byte(`type="application/json"`)) {
			t.Errorf("%s: inline code the CSP blocks: %q", route, m)
		}
	}
	if bytes.Contains(body, []byte(`method="post"`)) && !bytes.Contains(body, []byte(`name="csrf_token"`)) {
		t.Errorf("%s: a form posts without a CSRF token", route)
	}
}

// TestRoutePermissions walks every registered route as anonymous, as a
// viewer, as an operator and as an admin of another workspace, then as the
// admin of the workspace; see routeRule.
func TestRoutePermissions(t *testing.T) {
	w := newRouteWorld(t)
	routes := w.srv.Routes()
	if len(routes) < 50 {
		t.Fatalf("only %d routes recorded: is the web app's mux recording?", len(routes))
	}
	seen := map[string]bool{}
	for _, p := range routes {
		seen[p] = true
		if _, ok := routeTable[p]; !ok {
			t.Errorf("route %q has no entry in routeTable (internal/server/routes_test.go): say what it needs", p)
		}
	}
	for p := range routeTable {
		if !seen[p] {
			t.Errorf("routeTable names %q, which is not registered: remove the entry", p)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	slices.Sort(routes)
	routes = slices.Compact(routes)

	t.Run("anonymous", func(t *testing.T) {
		for _, p := range routes {
			rule := routeTable[p]
			if rule.public {
				continue
			}
			req := w.request(t, p, rule, nil)
			resp := w.send(t, req)
			if strings.HasPrefix(req.URL.Path, "/api/") {
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("%s: anonymous got %d, want 401", p, resp.StatusCode)
				}
				continue
			}
			if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
				t.Errorf("%s: anonymous got %d to %q, want 303 to /login", p, resp.StatusCode, loc)
			}
		}
	})

	t.Run("user token on agent routes", func(t *testing.T) {
		for _, p := range routes {
			if rule := routeTable[p]; rule.agent {
				if resp := w.send(t, w.request(t, p, rule, &w.admin)); resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("%s: a user's token got %d, want 401", p, resp.StatusCode)
				}
			}
		}
	})

	t.Run("viewer", func(t *testing.T) {
		denied := 0
		for _, p := range routes {
			rule := routeTable[p]
			if rule.public || rule.agent {
				continue
			}
			method, _, _ := strings.Cut(p, " ")
			allowed := domain.Can(domain.RoleViewer, rule.perm)
			if allowed && method != http.MethodGet {
				// The viewer's own account (password, tokens, sessions,
				// logout): allowed, and would end the walk's own login.
				continue
			}
			resp := w.send(t, w.request(t, p, rule, &w.viewer))
			switch {
			case !allowed:
				denied++
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("%s: viewer got %d, want 403 (needs %q)", p, resp.StatusCode, rule.perm)
				}
			case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden || resp.StatusCode >= 500:
				t.Errorf("%s: viewer got %d; the route needs only %q, which viewers hold", p, resp.StatusCode, rule.perm)
			}
		}
		if denied < 30 {
			t.Errorf("only %d routes are denied to viewers: is the table right?", denied)
		}
	})

	t.Run("other workspace", func(t *testing.T) {
		for _, p := range routes {
			rule := routeTable[p]
			if rule.object == "" || rule.public || rule.agent {
				continue
			}
			resp := w.send(t, w.request(t, p, rule, &w.intruder))
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s: admin of another workspace got %d for workspace A's %s, want 404", p, resp.StatusCode, rule.object)
			}
		}
	})

	// Operators are refused what is the admin's alone (members, audit,
	// agent keys, checks, settings); what they may do is walked by the
	// admin below. After the other-workspace walk: a wrongly allowed
	// operator deletes things.
	t.Run("operator", func(t *testing.T) {
		for _, p := range routes {
			rule := routeTable[p]
			if rule.public || rule.agent || domain.Can(domain.RoleOperator, rule.perm) {
				continue
			}
			if resp := w.send(t, w.request(t, p, rule, &w.operator)); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s: operator got %d, want 403 (needs %q)", p, resp.StatusCode, rule.perm)
			}
		}
	})

	// Last, as it changes and deletes things: the workspace's admin is
	// refused nowhere (guards against a table or a check that denies all).
	t.Run("admin", func(t *testing.T) {
		htmlPages := 0
		defer func() {
			if htmlPages < 20 {
				t.Errorf("only %d HTML pages checked for inline code", htmlPages)
			}
		}()
		for _, p := range routes {
			rule := routeTable[p]
			if rule.public || rule.agent || p == "POST /logout" || strings.Contains(p, "/sessions/") {
				continue
			}
			resp, body := w.sendBody(t, w.request(t, p, rule, &w.admin))
			if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden || resp.StatusCode >= 500 {
				t.Errorf("%s: admin got %d", p, resp.StatusCode)
			}
			if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				htmlPages++
				checkPageSecurity(t, p, resp, body)
			}
		}
	})
}
