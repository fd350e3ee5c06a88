package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/vigil-project/vigil/internal/collect"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport"
	"github.com/vigil-project/vigil/internal/transport/winrmx"
)

// scanWinRM scans a Windows host over WinRM into rep: one remote shell, the
// Windows probes, then the requested compliance items. fail ends the scan
// with an error report, as ScanHost's does.
func (a *Agent) scanWinRM(ctx context.Context, h inventory.HostSpec, rep *inventory.HostReport, fail func(string, error) *inventory.HostReport, log *slog.Logger) *inventory.HostReport {
	sess, kind, err := a.dialWinRM(ctx, h)
	if err != nil {
		return fail(kind, err)
	}
	defer sess.Close()
	// Compliance items share their commands with the scan's probes: the
	// memo answers them from this scan's outputs instead of running them
	// again.
	r := &memoRunner{r: probeTimeout{sess, a.cfg.ProbeTimeout}}
	if err := collect.ScanWindows(ctx, r, rep, rep.StartedAt); err != nil {
		kind := inventory.ErrKindProbe
		if ctx.Err() != nil {
			kind = inventory.ErrKindTimeout
		}
		return fail(kind, err)
	}
	if h.SAP {
		// Only for workspaces with SAP in scope (collect/sap_win.go).
		if err := collect.ScanSAPWindows(ctx, r, rep, rep.StartedAt); err != nil {
			return fail(inventory.ErrKindProbe, err)
		}
		// The component table through sqlcmd or hdbsql.exe, where the
		// workspace gave a database login (collect/sap_dbread_win.go).
		collect.ReadSAPComponentTablesWindows(ctx, probeTimeout{sess, a.cfg.ProbeTimeout}, rep.SAP, h.SAPDB, a.resolveCredential)
	}
	if len(h.Items) > 0 {
		rep.Items = collectWindowsItems(ctx, r, h.Items)
	}
	rep.FinishedAt = time.Now().UTC()
	log.Info("scan done", "os", rep.System.OS.Name+" "+rep.System.Kernel.Release, "packages", len(rep.Packages),
		"hotfixes", len(rep.System.Windows.Hotfixes), "items", len(rep.Items), "ms", rep.FinishedAt.Sub(rep.StartedAt).Milliseconds())
	return rep
}

// ErrNotWindowsItem is the result of a Linux item (an sshd probe, a file
// under /etc) asked of a Windows host: it is refused without running.
const ErrNotWindowsItem = "not collected: not an item of the Windows catalogue (win_* probes only)"

// collectWindowsItems collects the win_* probe items through the catalogue
// and refuses every other item in its result, in request order.
func collectWindowsItems(ctx context.Context, r transport.Runner, reqs []inventory.ItemRequest) []inventory.ItemResult {
	var win []inventory.ItemRequest
	for _, q := range reqs {
		if q.Kind == inventory.ItemProbe && collect.IsWindowsItem(q.Name) {
			win = append(win, q)
		}
	}
	got := collect.CollectItems(ctx, r, win, nil)
	out := make([]inventory.ItemResult, 0, len(reqs))
	for _, q := range reqs {
		if q.Kind == inventory.ItemProbe && collect.IsWindowsItem(q.Name) {
			out = append(out, got[0])
			got = got[1:]
			continue
		}
		out = append(out, inventory.ItemResult{Kind: q.Kind, Name: q.Name, Error: ErrNotWindowsItem})
	}
	return out
}

// dialWinRM resolves the host's Vault references (as for SSH) and logs in.
func (a *Agent) dialWinRM(ctx context.Context, h inventory.HostSpec) (*winrmx.Session, string, error) {
	h, err := a.resolveHost(ctx, h)
	if err != nil {
		return nil, inventory.ErrKindCredential, err
	}
	sess, err := winrmx.Dial(ctx, h, winrmx.Options{Timeout: a.cfg.ConnectTimeout})
	if err != nil {
		kind := inventory.ErrKindUnreachable
		var we *winrmx.Error
		if errors.As(err, &we) {
			kind = we.Kind
		}
		return nil, kind, err
	}
	return sess, "", nil
}

// checkWinRM logs in and asks for PowerShell's version, which proves both
// the login and that commands run.
func (a *Agent) checkWinRM(ctx context.Context, h inventory.HostSpec) CheckResult {
	sess, _, err := a.dialWinRM(ctx, h)
	if err != nil {
		return CheckResult{Detail: err.Error()}
	}
	defer sess.Close()
	auth, scheme := "ntlm", "https"
	if h.WinRM != nil {
		if h.WinRM.Auth != "" {
			auth = strings.ToLower(h.WinRM.Auth)
		}
		if !h.WinRM.HTTPS {
			scheme = "http"
		}
	}
	detail := fmt.Sprintf("login ok (%s over %s)", auth, scheme)
	pctx, cancel := context.WithTimeout(ctx, a.cfg.ProbeTimeout)
	defer cancel()
	out, err := sess.Run(pctx, transport.PowerShell("$PSVersionTable.PSVersion.ToString()"))
	if err != nil {
		return CheckResult{Detail: detail + ", but PowerShell did not run: " + err.Error()}
	}
	return CheckResult{OK: true, Detail: detail + ", PowerShell " + strings.TrimSpace(string(out))}
}

// memoRunner remembers each command's result for the rest of one host's
// scan. Probes only read, so a second run would only cost a round trip.
type memoRunner struct {
	r  transport.Runner
	mu sync.Mutex
	m  map[string]memoEntry
}

type memoEntry struct {
	out []byte
	err error
}

func (m *memoRunner) Run(ctx context.Context, cmd string) ([]byte, error) {
	m.mu.Lock()
	e, ok := m.m[cmd]
	m.mu.Unlock()
	if ok {
		return e.out, e.err
	}
	out, err := m.r.Run(ctx, cmd)
	var exit *transport.ExitError
	if err == nil || errors.As(err, &exit) && exit.Code != -1 { // not a timeout: worth keeping
		m.mu.Lock()
		if m.m == nil {
			m.m = map[string]memoEntry{}
		}
		m.m[cmd] = memoEntry{out, err}
		m.mu.Unlock()
	}
	return out, err
}
