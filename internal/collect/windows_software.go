package collect

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

// winSoftwareProbe lists the programs of the 64- and 32-bit (WOW6432Node)
// Uninstall keys, as "Programs and Features" does, and the per-user
// Uninstall keys of the user hives that are loaded (users logged on, or
// whose profile a service holds), where user-level installers (browsers,
// conferencing clients, editors) register. It reads with GetValue rather
// than Get-ItemProperty so one key with a malformed value cannot stop the
// list.
var winSoftwareProbe = Probe{
	Name: packagesProbeName,
	Command: psCommand("win_software", `
function L($p,$a){if(Test-Path $p){Get-ChildItem $p -EA SilentlyContinue|%{$n=$_.GetValue('DisplayName');if($n){[pscustomobject]@{name=$n;version=$_.GetValue('DisplayVersion');publisher=$_.GetValue('Publisher');install_date=$_.GetValue('InstallDate');release_type=$_.GetValue('ReleaseType');arch=$a}}}}}
$k='\Microsoft\Windows\CurrentVersion\Uninstall'
$r=@(L "HKLM:\SOFTWARE$k" $(if([Environment]::Is64BitOperatingSystem){'x64'}else{'x86'}))+@(L "HKLM:\SOFTWARE\WOW6432Node$k" 'x86')
foreach($h in Get-ChildItem Registry::HKEY_USERS -EA SilentlyContinue|?{$_.PSChildName -match '^S-1-5-21-[\d-]+$'}){$r+=@(L "Registry::HKEY_USERS\$($h.PSChildName)\Software$k" 'user')}
ConvertTo-Json -Compress -Depth 4 -InputObject $r`),
	apply: applyPackages(ParseWinSoftware),
}

// ParseWinSoftware parses the win_software probe into packages of ecosystem
// "windows", with Arch the key they came from: x64, x86 (WOW6432Node) or
// user (a per-user install). Entries that are updates of another product (ReleaseType
// Update, Security Update, Hotfix: the hotfix list has them) are skipped, as
// are exact duplicates (one product registered twice in a key).
func ParseWinSoftware(out []byte) ([]inventory.Package, error) {
	var raw psList[struct {
		Name        psString `json:"name"`
		Version     psString `json:"version"`
		Publisher   psString `json:"publisher"`
		InstallDate psTime   `json:"install_date"`
		ReleaseType psString `json:"release_type"`
		Arch        psString `json:"arch"`
	}]
	if err := psUnmarshal(out, &raw); err != nil {
		return nil, fmt.Errorf("parse win_software: %w", err)
	}
	pkgs := make([]inventory.Package, 0, len(raw))
	seen := map[string]bool{}
	for _, e := range raw {
		name := strings.TrimSpace(string(e.Name))
		switch strings.ToLower(string(e.ReleaseType)) {
		case "update", "security update", "hotfix", "service pack":
			continue
		}
		if name == "" {
			continue
		}
		p := inventory.Package{
			Name:      name,
			Version:   string(e.Version),
			Arch:      string(e.Arch),
			Vendor:    string(e.Publisher),
			Ecosystem: inventory.EcosystemWindows,
		}
		if !e.InstallDate.IsZero() {
			p.InstallDate = e.InstallDate.Format(time.DateOnly)
		}
		key := p.Name + "\x00" + p.Version + "\x00" + p.Arch
		if seen[key] {
			continue
		}
		seen[key] = true
		pkgs = append(pkgs, p)
	}
	sort.SliceStable(pkgs, func(i, j int) bool {
		if pkgs[i].Name != pkgs[j].Name {
			return pkgs[i].Name < pkgs[j].Name
		}
		return pkgs[i].Arch < pkgs[j].Arch
	})
	return pkgs, nil
}
