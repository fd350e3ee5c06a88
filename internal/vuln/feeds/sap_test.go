package feeds_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/vuln/sapnotes"
)

const sapSample = "../sapnotes/testdata/notes_catalog.json.gz"

func (e *env) ingestSAP(t *testing.T, id string, started time.Time, systems []inventory.SAPSystem) {
	t.Helper()
	r := inventory.HostReport{SchemaVersion: 1, ReportID: id, HostID: e.host.ID, StartedAt: started, FinishedAt: started.Add(time.Second),
		Status: inventory.StatusOK, Packages: []inventory.Package{},
		System: inventory.System{OS: inventory.OS{ID: "sles", VersionID: "15.5", Family: "suse"}},
		Probes: []inventory.ProbeResult{{Name: inventory.SAPProbeName}}, SAP: systems}
	reply, err := e.svc.IngestBatch(context.Background(), e.agent, &inventory.Batch{Reports: []inventory.HostReport{r}})
	if err != nil || reply.Results[0].Status != inventory.ResultAccepted {
		t.Fatalf("ingest: %v %+v", err, reply)
	}
}

func prdSystem(kernelRelease, kernelPatch string) inventory.SAPSystem {
	return inventory.SAPSystem{SID: "PRD",
		Components: []inventory.SAPComponent{
			{Name: "SAP_BASIS", Release: "750", SPLevel: "0012"},
			{Name: "KERNEL", Release: kernelRelease, PatchLevel: kernelPatch},
			{Name: "KRNL64UC", Release: kernelRelease, PatchLevel: kernelPatch},
		},
		Sources: []inventory.SAPSource{{Name: sapnotes.SourceComponents, Available: true}}}
}

func TestSAPImportMatchAndLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin := service.Actor{WorkspaceID: e.ws, Role: domain.RoleAdmin, Login: "admin", UserID: 1}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// Out of scope: systems are stored but nothing is matched, and agents
	// are not asked for SAP probes.
	e.ingestSAP(t, "r1", time.Now().Add(-time.Hour), []inventory.SAPSystem{prdSystem("7.53", "1100")})
	res, err := e.im.ImportSAP(ctx, sapSample)
	must(err)
	if res.Records != 130 || res.Changed != 130 || res.Skipped != 0 || res.Hosts != 0 {
		t.Fatalf("import = %+v", res)
	}
	if notes, _ := e.svc.SAPNotes(ctx, admin, ""); len(notes) != 0 {
		t.Fatalf("notes matched while out of scope: %d", len(notes))
	}
	// In scope: the stored systems are matched at once, and the agent's
	// cached config is dropped so it asks for the SAP probe at once.
	if cfg, _, err := e.svc.AgentConfig(ctx, e.agent, ""); err != nil || cfg.Hosts[0].SAP {
		t.Fatalf("agent config before: %+v %v", cfg, err)
	}
	must(e.svc.SetSAPInScope(ctx, admin, true))
	unresolved, err := e.svc.SAPNotes(ctx, admin, service.SAPTabUnresolved)
	must(err)
	review, err := e.svc.SAPNotes(ctx, admin, service.SAPTabManualReview)
	must(err)
	if len(unresolved) == 0 || len(review) != 6 {
		t.Fatalf("unresolved %d, manual review %d (want 6)", len(unresolved), len(review))
	}
	if unresolved[0].Note.Priority != sapnotes.PriorityHotNews {
		t.Errorf("first unresolved note is %s, want HotNews first", unresolved[0].Note.Priority)
	}
	kernelNote := findNote(unresolved, "3692165")
	if kernelNote == nil || kernelNote.Affected != 1 || kernelNote.Systems[0] != "PRD on alma" {
		t.Fatalf("kernel note 3692165 = %+v", kernelNote)
	}
	// A newer kernel release no longer matches: the kernel notes resolve.
	e.ingestSAP(t, "r2", time.Now(), []inventory.SAPSystem{prdSystem("7.85", "200")})
	resolved, err := e.svc.SAPNotes(ctx, admin, service.SAPTabResolved)
	must(err)
	if findNote(resolved, "3692165") == nil {
		t.Fatal("3692165 not resolved after the kernel upgrade")
	}
	// Manual resolution with a reason.
	basis := "3754659"
	_, err = e.svc.ResolveSAPNote(ctx, admin, basis, 0, "")
	if domain.ErrorCode(err) != domain.EINVALID {
		t.Fatalf("resolve without reason: %v", err)
	}
	viewer := admin
	viewer.Role = domain.RoleViewer
	if _, err := e.svc.ResolveSAPNote(ctx, viewer, basis, 0, "x"); domain.ErrorCode(err) != domain.EFORBIDDEN {
		t.Fatalf("viewer resolve: %v", err)
	}
	n, err := e.svc.ResolveSAPNote(ctx, admin, basis, 0, "implemented with SNOTE")
	must(err)
	if n != 1 {
		t.Fatalf("resolved %d", n)
	}
	e.ingestSAP(t, "r3", time.Now().Add(time.Minute), []inventory.SAPSystem{prdSystem("7.85", "200")})
	resolved, _ = e.svc.SAPNotes(ctx, admin, service.SAPTabResolved)
	v := findNote(resolved, basis)
	if v == nil || !v.Findings[0].ResolvedManually || v.Findings[0].ResolveReason != "implemented with SNOTE" {
		t.Fatalf("manual resolution lost on rescan: %+v", v)
	}
	// The agent config asks for the SAP probes now.
	cfg, _, err := e.svc.AgentConfig(ctx, e.agent, "")
	must(err)
	if len(cfg.Hosts) != 1 || !cfg.Hosts[0].SAP {
		t.Fatalf("agent config hosts = %+v", cfg.Hosts)
	}
}

func findNote(vs []service.SAPNoteView, num string) *service.SAPNoteView {
	for i := range vs {
		if vs[i].Note.Number == num {
			return &vs[i]
		}
	}
	return nil
}

func TestSAPImportMalformedRecords(t *testing.T) {
	e := newEnv(t)
	res, err := e.im.ImportSAP(context.Background(), "../sapnotes/testdata/notes.csv")
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 6 || res.Changed != 2 || res.Skipped != 4 || len(res.Errors) != 4 || !strings.Contains(res.Errors[0], "record 4 (note 12AB)") {
		t.Fatalf("import = %+v", res)
	}
	st, err := e.im.Store.GetFeedState(context.Background(), "sap")
	if err != nil || st.Records != 2 || st.LastError != "" {
		t.Fatalf("feed state %+v %v", st, err)
	}
	if _, err := e.im.ImportSAP(context.Background(), "does-not-exist.json"); err == nil {
		t.Fatal("missing file imported")
	}
}

func TestSAPSyncConditional(t *testing.T) {
	e := newEnv(t)
	body, err := os.ReadFile(sapSample)
	if err != nil {
		t.Fatal(err)
	}
	gets, notModified := 0, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gets++
		if r.Header.Get("If-None-Match") == `"v1"` {
			notModified++
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Write(body)
	}))
	defer srv.Close()
	c := &sapnotes.Client{URL: srv.URL + "/notes_catalog.json.gz", MaxRetries: -1}
	res, err := e.im.SyncSAP(context.Background(), c)
	if err != nil || res.Changed != 130 {
		t.Fatalf("first sync %+v %v", res, err)
	}
	res, err = e.im.SyncSAP(context.Background(), c)
	if err != nil || notModified != 1 || !strings.HasSuffix(res.Source, "(unchanged)") {
		t.Fatalf("second sync %+v %v (304s: %d)", res, err, notModified)
	}
	st, _ := e.im.Store.GetFeedState(context.Background(), "sap")
	if st.Records != 130 || st.LastError != "" {
		t.Fatalf("feed state after 304: %+v", st)
	}
	// A server error is recorded and the notes stay.
	c.URL = srv.URL + "/missing"
	srv.Config.Handler = http.NotFoundHandler()
	if _, err := e.im.SyncSAP(context.Background(), c); err == nil {
		t.Fatal("404 synced")
	}
	if notes, _ := e.im.Store.SAPNotes(context.Background()); len(notes) != 130 {
		t.Fatalf("notes after failed sync: %d", len(notes))
	}
}
