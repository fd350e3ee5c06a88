package collect

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

// winHotfixesProbe lists Get-HotFix (Win32_QuickFixEngineering). Its
// InstalledOn is a DateTime that Windows PowerShell 5.1 serialises wrapped
// ({"value": "\/Date(...)\/", "DateTime": ...}); ParseWinHotfixes reads both
// that and PowerShell 7's ISO form.
var winHotfixesProbe = Probe{
	Name: "win_hotfixes",
	Command: psCommand("win_hotfixes", `
ConvertTo-Json -Compress -Depth 4 -InputObject @(Get-HotFix|%{[pscustomobject]@{kb=$_.HotFixID;description=$_.Description;installed_on=$_.InstalledOn}})`),
	apply: func(out []byte, _ time.Time, rep *inventory.HostReport) error {
		h, err := ParseWinHotfixes(out)
		if err != nil {
			return err
		}
		win(rep).Hotfixes = h
		return nil
	},
}

// ParseWinHotfixes parses the win_hotfixes probe, newest first (those
// without a date last), one entry per KB.
func ParseWinHotfixes(out []byte) ([]inventory.Hotfix, error) {
	var raw psList[struct {
		KB          psString `json:"kb"`
		Description psString `json:"description"`
		InstalledOn psTime   `json:"installed_on"`
	}]
	if err := psUnmarshal(out, &raw); err != nil {
		return nil, fmt.Errorf("parse win_hotfixes: %w", err)
	}
	hs := make([]inventory.Hotfix, 0, len(raw))
	at := map[string]int{}
	for _, e := range raw {
		kb := strings.ToUpper(strings.TrimSpace(string(e.KB)))
		if kb == "" || kb == "FILE 1" { // Windows lists "File 1" for a few components: no KB
			continue
		}
		h := inventory.Hotfix{KB: kb, Description: string(e.Description), InstalledOn: e.InstalledOn.Time}
		if i, dup := at[kb]; dup {
			if h.InstalledOn.After(hs[i].InstalledOn) {
				hs[i] = h
			}
			continue
		}
		at[kb] = len(hs)
		hs = append(hs, h)
	}
	sort.SliceStable(hs, func(i, j int) bool {
		a, b := hs[i].InstalledOn, hs[j].InstalledOn
		if a.IsZero() != b.IsZero() {
			return b.IsZero()
		}
		if !a.Equal(b) {
			return a.After(b)
		}
		return hs[i].KB < hs[j].KB
	})
	return hs, nil
}
