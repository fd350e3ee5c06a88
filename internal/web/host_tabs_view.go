package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/compliance"
	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/vuln/version"
)

// probeRunsShown is how many recent scans show their per-probe timings:
// each needs its stored report decoded.
const probeRunsShown = 5

// hostExtras is what the host page shows from the latest report beyond
// the basic properties: hardware, network, file systems, listening ports,
// the raw facts, and per-probe timings of recent scans.
type hostExtras struct {
	Hardware    []prop
	Interfaces  []ifaceRow
	Gateway     string
	DNS         string
	Filesystems []fsRow
	Listeners   []inventory.Listener
	// Facts is the host's facts as group expressions and checks see them,
	// as indented JSON (the package list is summarised).
	Facts  string
	Probes []probeRun
	// Snapshots are the successful scans a package diff can compare.
	Snapshots []snapOption
	HostID    int64
}

type ifaceRow struct {
	Name, MAC, Addresses, State string
	MTU                         int
}

type fsRow struct {
	Mount, Device, Type, Size, Used, Avail string
	UsedPct                                int
}

type probeRun struct {
	Started when
	Status  status
	Probes  []probeRow
}

type probeRow struct {
	Name     string
	Duration string
	Error    string
	Priv     bool
}

type snapOption struct {
	ID    int64
	Label string
}

// hostExtrasFor builds the extras from the latest successful snapshot
// (nil when there is none) and the scan history.
func (a *app) hostExtrasFor(ctx context.Context, rq *request, h *domain.Host, snap *domain.Snapshot, snaps []domain.Snapshot, now time.Time) (hostExtras, error) {
	x := hostExtras{HostID: h.ID}
	if snap != nil && snap.Report != nil {
		sys := snap.Report.System
		hw := sys.Hardware
		for _, p := range []prop{
			{Label: "Vendor", Value: hw.Vendor}, {Label: "Product", Value: hw.Product},
			{Label: "Serial", Value: hw.Serial, Mono: true}, {Label: "UUID", Value: hw.UUID, Mono: true},
			{Label: "BIOS", Value: hw.BIOSVersion}, {Label: "Virtualization", Value: hw.Virtualization},
			{Label: "Cloud", Value: hw.Cloud},
		} {
			if p.Value != "" {
				x.Hardware = append(x.Hardware, p)
			}
		}
		for _, i := range sys.Network.Interfaces {
			st := "down"
			if i.Up {
				st = "up"
			}
			x.Interfaces = append(x.Interfaces, ifaceRow{Name: i.Name, MAC: i.MAC, Addresses: strings.Join(i.Addresses, ", "), State: st, MTU: i.MTU})
		}
		if r := sys.Network.DefaultRoute; r != nil {
			x.Gateway = strings.TrimSpace(r.Gateway + " via " + r.Interface)
		}
		x.DNS = strings.Join(sys.Network.DNSServers, ", ")
		for _, f := range sys.Filesystems {
			row := fsRow{Mount: f.Mountpoint, Device: f.Device, Type: f.Type, Size: bytesText(f.SizeBytes), Used: bytesText(f.UsedBytes), Avail: bytesText(f.AvailBytes)}
			if f.SizeBytes > 0 {
				row.UsedPct = int(f.UsedBytes * 100 / f.SizeBytes)
			}
			x.Filesystems = append(x.Filesystems, row)
		}
		x.Listeners = append([]inventory.Listener(nil), sys.Network.Listening...)
		sort.Slice(x.Listeners, func(i, j int) bool {
			a, b := x.Listeners[i], x.Listeners[j]
			if a.Port != b.Port {
				return a.Port < b.Port
			}
			return a.Proto+a.Address < b.Proto+b.Address
		})
		labels, err := a.svc.Store.HostLabels(ctx, rq.Actor.WorkspaceID, h.ID)
		if err != nil {
			return x, err
		}
		facts := compliance.Facts(snap.Report, compliance.Extra{Labels: labels, Now: now})
		// The package map is the bulk of the facts and has its own section.
		if _, ok := facts["packages"]; ok {
			facts["packages"] = fmt.Sprintf("(a map of %d package names to versions: see Packages)", len(snap.Report.Packages))
		}
		b, err := json.MarshalIndent(facts, "", "  ")
		if err != nil {
			return x, fmt.Errorf("facts: %w", err)
		}
		x.Facts = string(b)
	}
	for i := range snaps {
		s := &snaps[i]
		if s.Status == inventory.StatusOK {
			x.Snapshots = append(x.Snapshots, snapOption{ID: s.ID, Label: s.StartedAt.UTC().Format("2006-01-02 15:04 UTC") + " · " + strconv.Itoa(s.PackageCount) + " packages"})
		}
		if i >= probeRunsShown {
			continue
		}
		full, err := a.svc.Store.GetSnapshot(ctx, rq.Actor.WorkspaceID, h.ID, s.ID)
		if err != nil {
			return x, err
		}
		run := probeRun{Started: newWhen(s.StartedAt, now), Status: snapshotStatus(s)}
		for _, p := range full.Report.Probes {
			run.Probes = append(run.Probes, probeRow{Name: p.Name, Duration: probeDuration(p.DurationMS), Error: p.Error, Priv: p.NeedsPrivilege})
		}
		x.Probes = append(x.Probes, run)
	}
	return x, nil
}

func probeDuration(ms int64) string {
	if ms <= 0 {
		return "< 1 ms"
	}
	return shortDuration(time.Duration(ms) * time.Millisecond)
}

// bytesText formats a size in binary units.
func bytesText(b uint64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%d B", b)
	}
	div, exp := uint64(unit), 0
	for n := b / unit; n >= unit && exp < 4; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(b)/float64(div), "KMGTP"[exp])
}

// packageDiff is what changed between two scans of a host.
type packageDiff struct {
	HostID     int64
	HostName   string
	From, To   snapOption
	Options    []snapOption
	Added      []diffRow
	Removed    []diffRow
	Upgraded   []diffRow
	Downgraded []diffRow
	Changed    []diffRow // versions that do not compare (another scheme)
	Same       int
	Sections   []diffSection
}

// diffSection is one table of the diff page.
type diffSection struct {
	Title string
	Rows  []diffRow
	Both  bool // show from and to versions
}

type diffRow struct {
	Name, Arch, From, To string
}

func pkgKey(p inventory.Package) string { return p.Name + "\x00" + p.Arch }

// diffPackages compares two package lists by name and architecture, using
// each ecosystem's version order to tell upgrades from downgrades.
func diffPackages(from, to []inventory.Package) packageDiff {
	var d packageDiff
	old := make(map[string]inventory.Package, len(from))
	for _, p := range from {
		old[pkgKey(p)] = p
	}
	seen := make(map[string]bool, len(to))
	for _, p := range to {
		k := pkgKey(p)
		seen[k] = true
		o, ok := old[k]
		if !ok {
			d.Added = append(d.Added, diffRow{Name: p.Name, Arch: p.Arch, To: p.EVR()})
			continue
		}
		a, b := o.EVR(), p.EVR()
		if a == b {
			d.Same++
			continue
		}
		row := diffRow{Name: p.Name, Arch: p.Arch, From: a, To: b}
		c := 0
		var err error = fmt.Errorf("no version order")
		if cmp, cerr := version.For(p.Ecosystem); cerr == nil && o.Ecosystem == p.Ecosystem {
			c, err = cmp.Compare(a, b)
		}
		switch {
		case err != nil:
			d.Changed = append(d.Changed, row)
		case c < 0:
			d.Upgraded = append(d.Upgraded, row)
		case c > 0:
			d.Downgraded = append(d.Downgraded, row)
		default:
			d.Same++ // equal in the ecosystem's order, written differently
		}
	}
	for _, p := range from {
		if !seen[pkgKey(p)] {
			d.Removed = append(d.Removed, diffRow{Name: p.Name, Arch: p.Arch, From: p.EVR()})
		}
	}
	for _, l := range [][]diffRow{d.Added, d.Removed, d.Upgraded, d.Downgraded, d.Changed} {
		sort.Slice(l, func(i, j int) bool { return l[i].Name+l[i].Arch < l[j].Name+l[j].Arch })
	}
	return d
}

// handleHostDiff compares the packages of two successful scans: by
// default the newest and the one before it.
func (a *app) handleHostDiff(w http.ResponseWriter, r *http.Request, rq *request) {
	ctx := r.Context()
	id, ok := hostID(r)
	if !ok {
		a.notFound(w, r, rq)
		return
	}
	h, err := a.svc.GetHost(ctx, *rq.Actor, id)
	if isNotFound(err) {
		a.notFound(w, r, rq)
		return
	} else if err != nil {
		a.serverError(w, r, rq, "get host", err)
		return
	}
	snaps, err := a.svc.Store.ListSnapshots(ctx, rq.Actor.WorkspaceID, h.ID, 0)
	if err != nil {
		a.serverError(w, r, rq, "list snapshots", err)
		return
	}
	var opts []snapOption
	for i := range snaps {
		if s := &snaps[i]; s.Status == inventory.StatusOK {
			opts = append(opts, snapOption{ID: s.ID, Label: s.StartedAt.UTC().Format("2006-01-02 15:04 UTC") + " · " + strconv.Itoa(s.PackageCount) + " packages"})
		}
	}
	d := packageDiff{HostID: h.ID, HostName: h.Name, Options: opts}
	if len(opts) < 2 {
		a.render(w, r, http.StatusOK, "host_diff", pageData{Title: h.Name + ": package changes", Nav: "hosts", Req: rq, Data: d})
		return
	}
	pick := func(param string, def snapOption) (snapOption, bool) {
		v := r.URL.Query().Get(param)
		if v == "" {
			return def, true
		}
		n, err := strconv.ParseInt(v, 10, 64)
		for _, o := range opts {
			if err == nil && o.ID == n {
				return o, true
			}
		}
		return snapOption{}, false
	}
	from, ok1 := pick("from", opts[1])
	to, ok2 := pick("to", opts[0])
	if !ok1 || !ok2 {
		a.renderError(w, r, rq, http.StatusBadRequest, "No such scan", "from, to: choose two successful scans of this host from the lists.")
		return
	}
	fs, err := a.svc.Store.GetSnapshot(ctx, rq.Actor.WorkspaceID, h.ID, from.ID)
	if err != nil {
		a.serverError(w, r, rq, "get snapshot", err)
		return
	}
	ts, err := a.svc.Store.GetSnapshot(ctx, rq.Actor.WorkspaceID, h.ID, to.ID)
	if err != nil {
		a.serverError(w, r, rq, "get snapshot", err)
		return
	}
	diff := diffPackages(fs.Report.Packages, ts.Report.Packages)
	diff.HostID, diff.HostName, diff.Options, diff.From, diff.To = h.ID, h.Name, opts, from, to
	diff.Sections = []diffSection{{"Upgraded", diff.Upgraded, true}, {"Downgraded", diff.Downgraded, true},
		{"Added", diff.Added, false}, {"Removed", diff.Removed, false}, {"Changed (versions of different schemes)", diff.Changed, true}}
	a.render(w, r, http.StatusOK, "host_diff", pageData{Title: h.Name + ": package changes", Nav: "hosts", Req: rq, Data: diff})
}
