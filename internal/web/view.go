package web

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
)

// when is a point in time as the templates show it: relative text with
// the absolute UTC time in <time datetime> and a tooltip.
type when struct {
	Set bool
	ISO string // RFC 3339, for datetime=""
	Abs string // "2006-01-02 15:04:05 UTC"
	Rel string // "5 min ago"
}

func newWhen(t time.Time, now time.Time) when {
	if t.IsZero() {
		return when{}
	}
	t = t.UTC()
	return when{Set: true, ISO: t.Format(time.RFC3339), Abs: t.Format("2006-01-02 15:04:05 UTC"), Rel: relTime(now.Sub(t))}
}

func whenPtr(t *time.Time, now time.Time) when {
	if t == nil {
		return when{}
	}
	return newWhen(*t, now)
}

// relTime says how long ago (or, for clock skew, how far ahead) d was.
func relTime(d time.Duration) string {
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		s = fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 48*time.Hour:
		s = fmt.Sprintf("%d h", int(d/time.Hour))
	default:
		s = fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

// interval formats a schedule interval: "1 h", "30 min", "1 day".
func interval(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		n := int(d / (24 * time.Hour))
		return fmt.Sprintf("%d %s", n, plural(n, "day", "days"))
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d h", int(d/time.Hour))
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	default:
		return d.String()
	}
}

// shortDuration formats a scan duration: "850 ms", "12.4 s", "3 min 5 s".
func shortDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	default:
		return fmt.Sprintf("%d min %d s", int(d/time.Minute), int(d%time.Minute/time.Second))
	}
}

// uptime formats seconds of uptime: "12 days 3 h", "4 h 10 min".
func uptime(seconds float64) string {
	d := time.Duration(seconds * float64(time.Second))
	days, h, m := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case days > 0:
		return fmt.Sprintf("%d %s %d h", days, plural(days, "day", "days"), h)
	case h > 0:
		return fmt.Sprintf("%d h %d min", h, m)
	default:
		return fmt.Sprintf("%d min", m)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// gib formats bytes in GiB with one decimal.
func gib(b uint64) string {
	if b == 0 {
		return ""
	}
	return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
}

// truncate shortens s to n runes with an ellipsis.
func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// status is a host's or snapshot's state as a badge: text and a CSS class,
// so it never relies on colour alone.
type status struct {
	Label string
	Class string // ok, error, never, stale
}

var (
	statusOK    = status{"OK", "ok"}
	statusError = status{"Error", "error"}
	statusNever = status{"Never scanned", "never"}
	statusStale = status{"Stale", "stale"}
)

// hostStatus orders the states by what needs attention first: a failing
// host is "Error" even when also stale; the stale badge is shown apart.
func hostStatus(h *domain.Host, stale bool) status {
	switch {
	case h.LastError != "":
		return statusError
	case h.LastScanAt == nil && h.LastSuccessAt == nil:
		return statusNever
	case stale:
		return statusStale
	default:
		return statusOK
	}
}

func snapshotStatus(s *domain.Snapshot) status {
	if s.Status == inventory.StatusOK {
		return statusOK
	}
	return statusError
}

// osLabel is the OS pretty name, or ID and version when there is none.
func osLabel(h *domain.Host) string {
	if h.OSName != "" {
		return h.OSName
	}
	return strings.TrimSpace(h.OSID + " " + h.OSVersionID)
}

// endpoint is where the agent reaches the host: "10.0.0.5:22" or "local".
func endpoint(h *domain.Host) string {
	if h.Transport == inventory.TransportLocal {
		return "agent's own machine"
	}
	if h.Port == 0 {
		return h.Address
	}
	return net.JoinHostPort(h.Address, strconv.Itoa(h.Port))
}

// errorText joins an error kind and message: "auth: permission denied".
func errorText(kind, msg string) string {
	if kind == "" {
		return msg
	}
	if msg == "" {
		return kind
	}
	return kind + ": " + msg
}

// hostRow is one line of the hosts table.
type hostRow struct {
	ID           int64
	Name         string
	Demo         bool
	Endpoint     string
	Transport    string
	OS           string
	Kernel       string
	Packages     string
	LastSuccess  when
	LastScan     when
	Stale        bool
	Status       status
	ErrorShort   string
	ErrorFull    string
	NeverScanned bool
}

func newHostRow(h *domain.Host, now time.Time, interval time.Duration) hostRow {
	stale := h.Stale(now, interval)
	row := hostRow{
		ID: h.ID, Name: h.Name, Demo: h.Demo, Endpoint: endpoint(h), Transport: h.Transport,
		OS: osLabel(h), Kernel: h.Kernel,
		LastSuccess: whenPtr(h.LastSuccessAt, now), LastScan: whenPtr(h.LastScanAt, now),
		Stale: stale, Status: hostStatus(h, stale),
		NeverScanned: h.LastScanAt == nil && h.LastSuccessAt == nil,
	}
	if h.LastSuccessAt != nil {
		row.Packages = strconv.Itoa(h.PackageCount)
	}
	if h.LastError != "" {
		row.ErrorFull = errorText(h.LastErrorKind, h.LastError)
		row.ErrorShort = truncate(row.ErrorFull, 70)
	}
	return row
}
