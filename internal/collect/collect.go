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
}

// Package manager families. suse hosts use the redhat family because both
// are rpm-based and the probe only reads the rpm database.
const (
	FamilyDebian = "debian"
	FamilyRedHat = "redhat"
	FamilyAlpine = "alpine"
)

// maxProbeError bounds the error text kept per probe.
const maxProbeError = 1024

// packagesProbeName is shared by every family so reports from different
// distributions can be compared probe by probe.
const packagesProbeName = "packages"

// systemProbes run on every host, in this order. os comes first because the
// package probe depends on it; the rest are independent.
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
}

var packageProbes = map[string]Probe{
	FamilyDebian: dpkgProbe,
	FamilyRedHat: rpmProbe,
	FamilyAlpine: apkProbe,
}

// Commands returns every command the agent can run, keyed by probe name.
// Package probes all share the name "packages", so they are keyed
// "packages/<family>" here to keep every command in the map.
func Commands() map[string]string {
	m := make(map[string]string, len(systemProbes)+len(packageProbes))
	for _, p := range systemProbes {
		m[p.Name] = p.Command
	}
	for fam, p := range packageProbes {
		m[p.Name+"/"+fam] = p.Command
	}
	return m
}

// FamilyFor names the package family whose probe applies to os, or "" when
// none is known. An OS whose Family was never set (built by hand rather than
// by ParseOS) is classified from its ID and ID_LIKE.
func FamilyFor(os inventory.OS) string {
	fam := os.Family
	if fam == "" {
		fam = osFamily(os.ID, os.IDLike)
	}
	switch fam {
	case osFamilyDebian:
		return FamilyDebian
	case osFamilyRedHat, osFamilySUSE:
		return FamilyRedHat
	case osFamilyAlpine:
		return FamilyAlpine
	}
	return ""
}

// Scan runs the system probes, then the package probe for the host's family,
// filling rep.System and rep.Packages and appending one ProbeResult per probe.
//
// A probe that fails on the host (non-zero exit, unparsable output) is
// recorded and skipped: one missing file should not cost the whole report.
// Any other Runner error means the session is gone, so Scan stops and returns
// it; what was collected so far stays in rep.
func Scan(ctx context.Context, r transport.Runner, rep *inventory.HostReport, now time.Time) error {
	rep.Packages = []inventory.Package{}
	for _, p := range systemProbes {
		if err := runProbe(ctx, r, p, rep, now); err != nil {
			return err
		}
	}

	fam := FamilyFor(rep.System.OS)
	p, ok := packageProbes[fam]
	if !ok {
		id := rep.System.OS.ID
		if id == "" {
			id = "(unknown)"
		}
		rep.Probes = append(rep.Probes, inventory.ProbeResult{
			Name:  packagesProbeName,
			Error: "no package manager known for os " + id,
		})
		return nil
	}
	return runProbe(ctx, r, p, rep, now)
}

func runProbe(ctx context.Context, r transport.Runner, p Probe, rep *inventory.HostReport, now time.Time) error {
	start := time.Now()
	// A runner that ignores ctx would otherwise carry a cancelled scan
	// through the whole catalogue.
	err := ctx.Err()
	var out []byte
	if err == nil {
		out, err = r.Run(ctx, p.Command)
	}
	var exit *transport.ExitError
	fatal := err != nil && !errors.As(err, &exit)
	if err == nil {
		err = p.apply(out, now, rep)
	}
	res := inventory.ProbeResult{Name: p.Name, DurationMS: time.Since(start).Milliseconds()}
	if err != nil {
		// Stderr from a failing command can be long; the report needs
		// the gist, not the whole stream.
		res.Error = truncate(err.Error(), maxProbeError)
	}
	rep.Probes = append(rep.Probes, res)
	if fatal {
		return fmt.Errorf("probe %s: %w", p.Name, err)
	}
	return nil
}

// applyPackages adapts a package parser to a probe, so every family fills
// the report the same way.
func applyPackages(parse func([]byte) ([]inventory.Package, error)) func([]byte, time.Time, *inventory.HostReport) error {
	return func(out []byte, _ time.Time, rep *inventory.HostReport) error {
		pkgs, err := parse(out)
		if err != nil {
			return err
		}
		rep.Packages = pkgs
		return nil
	}
}
