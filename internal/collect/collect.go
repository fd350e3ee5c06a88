// Package collect holds the agent's fixed catalogue of read-only probe
// commands, the pure parsers that turn their output into inventory types, and
// Scan, which runs the catalogue against one host.
//
// Parsers take bytes and return values so they can be tested against real
// captured output and fuzzed without a host; only Scan talks to a Runner.
package collect

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport"
)

// Probe is one command of the catalogue. The command string is part of the
// contract with hosts (and with the demo replay server, which answers by exact
// command string), so changing one is a visible change.
type Probe struct {
	Name    string
	Command string
	// apply parses the command's output into the report. It gets the whole
	// report so system and package probes can share one runner loop.
	apply func(out []byte, now time.Time, rep *inventory.HostReport) error
	// privileged probes run through sudo; a refusal is NeedsPrivilege.
	privileged bool
}

// Families, as FamilyFor names them and os.family reports them.
const (
	FamilyDebian = osFamilyDebian
	FamilyRedHat = osFamilyRedHat
	FamilySUSE   = osFamilySUSE
	FamilyAlpine = osFamilyAlpine
)

// maxProbeError bounds the error text kept per probe.
const maxProbeError = 1024

// packagesProbeName is shared by every family so reports from different
// distributions can be compared probe by probe.
const packagesProbeName = "packages"

// systemProbes run on every host, in this order, in the first batch. os
// comes first because the second batch (packages) depends on it; the rest
// are independent.
var systemProbes = []Probe{
	osProbe,
	hostnameProbe,
	kernelProbe,
	uptimeProbe,
	cpuProbe,
	memoryProbe,
	hardwareProbe,
	filesystemsProbe,
	networkProbe,
	listeningProbe,
	kernelInstalledProbe,
	accountsProbe,
	servicesProbe,
}

// hostProbes run after the family is known, in the second batch: the
// family's package probe goes first, then these.
var hostProbes = []Probe{
	pythonProbe,
}

// Commands returns every command the agent can run without privilege, keyed
// by probe name. Package probes all share the name "packages", so they are
// keyed "packages/<family>" here to keep every command in the map. The
// privileged ones are in PrivilegedProbes.
func Commands() map[string]string {
	m := make(map[string]string, len(systemProbes)+len(families)+len(hostProbes))
	for _, p := range systemProbes {
		m[p.Name] = p.Command
	}
	for _, f := range families {
		m[packagesProbeName+"/"+f.Name()] = f.PackageProbe().Command
	}
	for _, p := range hostProbes {
		m[p.Name] = p.Command
	}
	return m
}

// Options tune a scan. The zero value is the default: no sudo, and
// DefaultProbeTimeout per probe.
type Options struct {
	// Sudo lets the privileged probes (PrivilegedProbes) run through
	// `sudo -n`. Without it they are not run and report NeedsPrivilege.
	Sudo bool
	// ProbeTimeout bounds each command inside a batch.
	ProbeTimeout time.Duration
}

// Option sets one of the Options.
type Option func(*Options)

// WithSudo sets Options.Sudo, from inventory.HostSpec.Sudo.
func WithSudo(on bool) Option { return func(o *Options) { o.Sudo = on } }

// WithProbeTimeout sets Options.ProbeTimeout.
func WithProbeTimeout(d time.Duration) Option { return func(o *Options) { o.ProbeTimeout = d } }

func buildOptions(opts []Option) Options {
	var o Options
	for _, f := range opts {
		f(&o)
	}
	if o.ProbeTimeout <= 0 {
		o.ProbeTimeout = DefaultProbeTimeout
	}
	return o
}

// Scan collects one host in two exec round trips: the system probes in one
// batch, then the package probe of the host's family with the other package
// and privileged probes in a second. It fills rep.System and rep.Packages
// and appends one ProbeResult per probe, with its own duration.
//
// A probe that fails on the host (non-zero exit, time limit, unparsable
// output) is recorded and skipped: one missing file should not cost the
// whole report. Any other Runner error means the session is gone, so Scan
// stops and returns it; what was collected so far stays in rep.
func Scan(ctx context.Context, r transport.Runner, rep *inventory.HostReport, now time.Time, opts ...Option) error {
	o := buildOptions(opts)
	rep.Packages = []inventory.Package{}
	if err := runProbes(ctx, r, systemProbes, rep, now, o); err != nil {
		return err
	}

	second := make([]Probe, 0, 1+len(hostProbes))
	if f, ok := familyNamed(FamilyFor(rep.System.OS)); ok {
		second = append(second, f.PackageProbe())
	}
	second = append(second, hostProbes...)
	var priv []privilegedProbe
	if o.Sudo {
		priv = privilegedProbes
	}
	if err := runProbes(ctx, r, append(second, sudoProbes(priv)...), rep, now, o); err != nil {
		finishAccounts(rep)
		return err
	}
	if _, ok := familyNamed(FamilyFor(rep.System.OS)); !ok {
		id := rep.System.OS.ID
		if id == "" {
			id = "(unknown)"
		}
		rep.Probes = append(rep.Probes, inventory.ProbeResult{
			Name:  packagesProbeName,
			Error: "no package manager known for os " + id,
		})
	}
	if !o.Sudo {
		for _, p := range privilegedProbes {
			rep.Probes = append(rep.Probes, inventory.ProbeResult{
				Name: p.name, NeedsPrivilege: true,
				Error: "needs privilege: sudo is not enabled for this host",
			})
		}
	}
	finishAccounts(rep)
	finishKernel(rep)
	return nil
}

// runProbes runs probes as one batch and applies each result in order.
func runProbes(ctx context.Context, r transport.Runner, probes []Probe, rep *inventory.HostReport, now time.Time, o Options) error {
	cmds := make([]batchCmd, len(probes))
	for i, p := range probes {
		cmds[i] = batchCmd{name: p.Name, command: p.Command}
	}
	res, fatal := runBatch(ctx, r, cmds, o.ProbeTimeout)
	for i, p := range probes {
		if fatal != nil && res[i].err == errNotReached {
			// The session went before this probe: the report says so
			// once, in its error, rather than per probe.
			continue
		}
		applyProbe(p, res[i], now, rep)
	}
	if fatal != nil {
		return fmt.Errorf("probe batch: %w", fatal)
	}
	return nil
}

func applyProbe(p Probe, res cmdResult, now time.Time, rep *inventory.HostReport) {
	err := res.err
	if err == nil {
		err = p.apply(res.out, now, rep)
	}
	pr := inventory.ProbeResult{Name: p.Name, DurationMS: res.duration.Milliseconds()}
	if err != nil {
		// Stderr from a failing command can be long; the report needs
		// the gist, not the whole stream.
		pr.Error = truncate(err.Error(), maxProbeError)
		var exit *transport.ExitError
		pr.NeedsPrivilege = p.privileged && errors.As(err, &exit) && sudoRefused(exit)
	}
	rep.Probes = append(rep.Probes, pr)
}

// applyPackages adapts a package parser to a probe, so every family fills
// the report the same way.
func applyPackages(parse func([]byte) ([]inventory.Package, error)) func([]byte, time.Time, *inventory.HostReport) error {
	return func(out []byte, _ time.Time, rep *inventory.HostReport) error {
		pkgs, err := parse(out)
		if err != nil {
			return err
		}
		// Python packages may have been added first; keep them.
		rep.Packages = append(pkgs, rep.Packages...)
		return nil
	}
}

// runProbe runs one probe in its own exec, for transports without a shell
// to batch in (WinRM runs PowerShell). A session error is recorded in the
// probe's result and returned.
func runProbe(ctx context.Context, r transport.Runner, p Probe, rep *inventory.HostReport, now time.Time) error {
	res := []cmdResult{{err: errNotReached}}
	res, fatal := runEach(ctx, r, []batchCmd{{name: p.Name, command: p.Command}}, res)
	if fatal != nil {
		rep.Probes = append(rep.Probes, inventory.ProbeResult{Name: p.Name, Error: truncate(fatal.Error(), maxProbeError)})
		return fmt.Errorf("probe %s: %w", p.Name, fatal)
	}
	applyProbe(p, res[0], now, rep)
	return nil
}
