package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/vigil-project/vigil/internal/collect"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport"
	"github.com/vigil-project/vigil/internal/transport/local"
	"github.com/vigil-project/vigil/internal/version"
)

// ScanStats summarises one scan run.
type ScanStats struct {
	Hosts    int
	OK       int
	Failed   int
	Duration time.Duration
}

// ScanHosts scans hosts with bounded concurrency and spools one report per
// host. A host that cannot be reached or logged into gets an error report;
// the others are unaffected.
func (a *Agent) ScanHosts(ctx context.Context, hosts []inventory.HostSpec) (ScanStats, error) {
	start := time.Now()
	ctx, endRun := a.startRun(ctx)
	defer endRun()
	stats := ScanStats{Hosts: len(hosts)}
	sem := make(chan struct{}, a.cfg.Concurrency)
	var mu sync.Mutex
	var spoolErr error
	var wg sync.WaitGroup
	for _, h := range hosts {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return stats, ctx.Err()
		}
		wg.Add(1)
		go func(h inventory.HostSpec) {
			defer func() { <-sem; wg.Done() }()
			rep := a.ScanHost(ctx, h)
			err := a.spool.Put(rep)
			mu.Lock()
			defer mu.Unlock()
			if rep.Status == inventory.StatusOK {
				stats.OK++
			} else {
				stats.Failed++
			}
			if err != nil && spoolErr == nil {
				spoolErr = err
			}
		}(h)
	}
	wg.Wait()
	stats.Duration = time.Since(start)
	return stats, spoolErr
}

// ScanHost scans one host and always returns a report: on failure its
// status is error with the reason, so the server can show it.
func (a *Agent) ScanHost(ctx context.Context, h inventory.HostSpec) *inventory.HostReport {
	log := a.log.With("host_id", h.ID, "host", h.Name)
	timeout := a.cfg.HostTimeout
	if h.TimeoutSeconds > 0 {
		timeout = time.Duration(h.TimeoutSeconds) * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rep := &inventory.HostReport{
		SchemaVersion: inventory.SchemaVersion,
		ReportID:      newReportID(),
		HostID:        h.ID,
		AgentVersion:  version.String(),
		StartedAt:     time.Now().UTC(),
		Status:        inventory.StatusOK,
		Packages:      []inventory.Package{},
	}
	fail := func(kind string, err error) *inventory.HostReport {
		rep.Status, rep.ErrorKind, rep.Error = inventory.StatusError, kind, err.Error()
		rep.FinishedAt = time.Now().UTC()
		log.Warn("scan failed", "error_kind", kind, "err", err)
		return rep
	}
	var runner transport.Session
	switch h.Transport {
	case inventory.TransportLocal:
		runner = local.Runner{}
	case inventory.TransportSSH:
		sess, kind, err := a.dialSSH(ctx, h)
		if err != nil {
			return fail(kind, err)
		}
		rep.HostKey, rep.JumpHostKey = sess.HostKey(), sess.JumpHostKey()
		runner = sess
	case inventory.TransportWinRM:
		return a.scanWinRM(ctx, h, rep, fail, log)
	default:
		return fail(inventory.ErrKindConfig, fmt.Errorf("transport %q not supported by this agent", h.Transport))
	}
	defer runner.Close()
	// The host's Sudo option is what lets the privileged probes run.
	if err := collect.Scan(ctx, probeTimeout{runner, a.cfg.ProbeTimeout}, rep, rep.StartedAt, collect.WithSudo(h.Sudo)); err != nil {
		kind := inventory.ErrKindProbe
		if ctx.Err() != nil {
			kind = inventory.ErrKindTimeout
		}
		return fail(kind, err)
	}
	if h.SAP {
		// Only for workspaces with SAP in scope: discovery reads /usr/sap,
		// the profiles and the transport directory (collect/sap.go).
		if err := collect.ScanSAP(ctx, probeTimeout{runner, a.cfg.ProbeTimeout}, rep, rep.StartedAt); err != nil {
			return fail(inventory.ErrKindProbe, err)
		}
		// The component table, where the workspace gave a database login;
		// every system says whether it was read (collect/sap_dbread.go).
		collect.ReadSAPComponentTables(ctx, probeTimeout{runner, a.cfg.ProbeTimeout}, rep.SAP, h.SAPDB, a.resolveCredential)
	}
	if len(h.Items) > 0 {
		// Only catalogue items are collected; CollectItems refuses the
		// rest in their results without running anything.
		rep.Items = collect.CollectItems(ctx, probeTimeout{runner, a.cfg.ProbeTimeout}, h.Items, a.cfg.AllowedFiles)
	}
	rep.FinishedAt = time.Now().UTC()
	log.Info("scan done", "os", rep.System.OS.ID+" "+rep.System.OS.VersionID, "packages", len(rep.Packages), "items", len(rep.Items),
		"ms", rep.FinishedAt.Sub(rep.StartedAt).Milliseconds())
	return rep
}

// probeTimeout gives every command its own deadline within the host's.
type probeTimeout struct {
	r transport.Runner
	d time.Duration
}

func (p probeTimeout) Run(ctx context.Context, cmd string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, p.d)
	defer cancel()
	return p.r.Run(ctx, cmd)
}

// RunInput gives a command fed on stdin the same deadline, where the
// transport can feed one.
func (p probeTimeout) RunInput(ctx context.Context, cmd string, stdin []byte) ([]byte, error) {
	ir, ok := p.r.(transport.InputRunner)
	if !ok {
		return nil, errors.New("this transport cannot feed a command's standard input")
	}
	ctx, cancel := context.WithTimeout(ctx, p.d)
	defer cancel()
	return ir.RunInput(ctx, cmd, stdin)
}

func newReportID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// CheckResult is one line of 'vigil agent check'.
type CheckResult struct {
	Host        inventory.HostSpec
	OK          bool
	Detail      string
	Fingerprint string
	Duration    time.Duration
	// Notes are further findings printed after the fingerprint: the jump
	// host's key, which privileged probes sudo would refuse.
	Notes []string
}

// CheckHosts tries a login to each host (and nothing more), concurrently.
func (a *Agent) CheckHosts(ctx context.Context, hosts []inventory.HostSpec) []CheckResult {
	out := make([]CheckResult, len(hosts))
	sem := make(chan struct{}, a.cfg.Concurrency)
	ctx, endRun := a.startRun(ctx)
	defer endRun()
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			start := time.Now()
			out[i] = a.checkHost(ctx, h)
			out[i].Host, out[i].Duration = h, time.Since(start)
		}()
	}
	wg.Wait()
	return out
}

func (a *Agent) checkHost(ctx context.Context, h inventory.HostSpec) CheckResult {
	switch h.Transport {
	case inventory.TransportLocal:
		out, err := local.Runner{}.Run(ctx, "uname -n")
		if err != nil {
			return CheckResult{Detail: err.Error()}
		}
		return CheckResult{OK: true, Detail: "local shell ok on " + string(trimNL(out))}
	case inventory.TransportSSH:
		sess, _, err := a.dialSSH(ctx, h)
		if err != nil {
			return CheckResult{Detail: err.Error()}
		}
		defer sess.Close()
		detail := "login ok"
		if h.HostKey == "" || (h.Jump != nil && h.Jump.HostKey == "") {
			detail += " (host key not pinned yet: it will be pinned on the first scan)"
		}
		return CheckResult{OK: true, Detail: detail, Fingerprint: fingerprint(sess.HostKey()), Notes: a.sshNotes(ctx, h, sess)}
	case inventory.TransportWinRM:
		return a.checkWinRM(ctx, h)
	}
	return CheckResult{Detail: fmt.Sprintf("transport %q not supported", h.Transport)}
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
