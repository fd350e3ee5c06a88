package collect

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/vigil-project/vigil/internal/inventory"
)

var dwLineRE = regexp.MustCompile(`^[*\s]*(kernel release|kernel make variant|compiled on|compiled for|compilation mode|compile time|patch number|kernel patch level)\s*:?\s+(.+?)\s*$`)

// ParseDispWorkVersion reads `disp+work -version`: the "disp+work
// information" block of aligned "key  value" lines. It tolerates the
// variants seen in the field: blank lines between keys, ':' after the key,
// the "*  " prefix of dev_disp traces, and DB library messages in between.
func ParseDispWorkVersion(b []byte) (*inventory.SAPKernel, error) {
	if err := sapCommandError(b); err != nil {
		return nil, fmt.Errorf("parse disp+work -version: %w", err)
	}
	k := &inventory.SAPKernel{}
	for _, l := range strings.Split(string(b), "\n") {
		m := dwLineRE.FindStringSubmatch(strings.TrimSuffix(l, "\r"))
		if m == nil {
			continue
		}
		v := m[2]
		switch m[1] {
		case "kernel release":
			if k.Release == "" {
				k.Release = firstField(v)
			}
		case "kernel make variant":
			k.MakeVariant = firstField(v)
		case "compiled on":
			k.CompiledOn = truncate(v, 200)
		case "compiled for":
			if strings.Contains(v, "64") {
				k.Bits = 64
			} else if strings.Contains(v, "32") {
				k.Bits = 32
			}
		case "compilation mode":
			k.Unicode = strings.EqualFold(strings.ReplaceAll(v, "-", ""), "unicode")
		case "patch number", "kernel patch level":
			if k.PatchLevel == "" {
				k.PatchLevel = firstField(v)
			}
		}
	}
	if !isDigits(k.Release) {
		return nil, errors.New("parse disp+work -version: no kernel release")
	}
	if k.PatchLevel != "" && !isDigits(k.PatchLevel) {
		k.PatchLevel = ""
	}
	return k, nil
}

// versionInfoRE matches the kernel part of a GetVersionInfo line:
// "<file>, 753, patch 1200, changelist 2046455, ...".
var versionInfoRE = regexp.MustCompile(`^\s*(\S+),\s*(\d{3}),\s*patch\s+(\d+)`)

// ParseSAPControlVersionInfo reads `sapcontrol -nr NN -function
// GetVersionInfo`: a date line, "GetVersionInfo", "OK", a header
// "Filename, VersionInfo, Time, ..." and one line per executable. The
// disp+work line gives the kernel; without one, the first executable's
// release and patch stand for the kernel (they are shipped together).
func ParseSAPControlVersionInfo(b []byte) (*inventory.SAPKernel, error) {
	if err := sapCommandError(b); err != nil {
		return nil, fmt.Errorf("parse GetVersionInfo: %w", err)
	}
	var best *inventory.SAPKernel
	for _, l := range strings.Split(string(b), "\n") {
		m := versionInfoRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		k := &inventory.SAPKernel{Release: m[2], PatchLevel: m[3], Bits: 64}
		if strings.Contains(l, "optU") || strings.Contains(strings.ToLower(l), "unicode") {
			k.Unicode = true
		}
		if strings.HasSuffix(m[1], "disp+work") || strings.HasSuffix(m[1], "disp+work.exe") {
			return k, nil
		}
		if best == nil {
			best = k
		}
	}
	if best == nil {
		return nil, errors.New("parse GetVersionInfo: no executable version line")
	}
	return best, nil
}

// ParseSAPComponentList reads `sapcontrol -function ABAPGetComponentList`:
// after the header "component, release, patchlevel, componenttype,
// description", one comma-separated line per software component. The
// patchlevel column is the support package level.
func ParseSAPComponentList(b []byte) ([]inventory.SAPComponent, error) {
	if err := sapCommandError(b); err != nil {
		return nil, fmt.Errorf("parse ABAPGetComponentList: %w", err)
	}
	var out []inventory.SAPComponent
	header := false
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(strings.ToLower(l), "component,") {
			header = true
			continue
		}
		if !header || l == "" {
			continue
		}
		f := strings.Split(l, ",")
		if len(f) < 3 {
			continue
		}
		name, rel, sp := strings.TrimSpace(f[0]), strings.TrimSpace(f[1]), strings.TrimSpace(f[2])
		if name == "" || len(name) > 40 || strings.ContainsAny(name, " \t") {
			continue
		}
		c := inventory.SAPComponent{Name: name, Release: rel, Source: "sapcontrol ABAPGetComponentList"}
		if isDigits(sp) && strings.Trim(sp, "0") != "" {
			c.SPLevel = sp
		} else if isDigits(sp) {
			c.SPLevel = "0"
		}
		out = append(out, c)
	}
	if !header {
		return nil, errors.New("parse ABAPGetComponentList: no component table")
	}
	return out, nil
}

// sapCommandError recognises the ways SAP tools say they could not run:
// sapcontrol's "FAIL: ..." status, a shell's "Permission denied" or "not
// found", and the dispatcher refusing to attach.
func sapCommandError(b []byte) error {
	s := string(b)
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "FAIL:"):
			return errors.New(truncate(l, 200))
		case strings.Contains(l, "Permission denied"), strings.Contains(l, "Access is denied"), strings.Contains(l, "not found"),
			strings.Contains(l, "cannot open shared object"):
			return errors.New(truncate(l, 200))
		}
	}
	if strings.TrimSpace(s) == "" {
		return errors.New("no output")
	}
	return nil
}

func firstField(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

func kernelNewer(a, b *inventory.SAPKernel) bool {
	ra, _ := strconv.Atoi(a.Release)
	rb, _ := strconv.Atoi(b.Release)
	if ra != rb {
		return ra > rb
	}
	pa, _ := strconv.Atoi(a.PatchLevel)
	pb, _ := strconv.Atoi(b.PatchLevel)
	return pa > pb
}

// KernelNoteRelease spells a kernel release the way SAP Security Notes
// do: "753" is "7.53", and an extended kernel (make variant 722_EXT_REL)
// is "7.22EXT".
func KernelNoteRelease(k *inventory.SAPKernel) string {
	if k == nil || len(k.Release) < 2 || !isDigits(k.Release) {
		return ""
	}
	r := k.Release[:1] + "." + k.Release[1:]
	if strings.Contains(strings.ToUpper(k.MakeVariant), "EXT") {
		r += "EXT"
	}
	return r
}

// kernelComponents are the software components a kernel stands for in
// SAP notes: KERNEL, and KRNL64UC or KRNL64NUC by its build.
func kernelComponents(k *inventory.SAPKernel) []inventory.SAPComponent {
	rel := KernelNoteRelease(k)
	if rel == "" {
		return nil
	}
	out := []inventory.SAPComponent{{Name: "KERNEL", Release: rel, PatchLevel: k.PatchLevel, Source: k.Source}}
	if k.Bits == 64 || k.Bits == 0 {
		name := "KRNL64NUC"
		if k.Unicode {
			name = "KRNL64UC"
		}
		out = append(out, inventory.SAPComponent{Name: name, Release: rel, PatchLevel: k.PatchLevel, Source: k.Source})
	}
	return out
}
