package collect

import (
	"fmt"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

// winAutoUpdateProbe reads the Windows Update policy keys, the wuauserv
// service's start mode and, from the Windows Update Agent's COM API, when
// updates were last searched for and installed.
var winAutoUpdateProbe = Probe{
	Name: "win_auto_updates",
	Command: psCommand("win_auto_updates", `
$au=Get-ItemProperty 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU' -EA SilentlyContinue;$wu=Get-ItemProperty 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate' -EA SilentlyContinue
$sv=Get-CimInstance Win32_Service -Filter "Name='wuauserv'";$r=try{(New-Object -ComObject Microsoft.Update.AutoUpdate).Results}catch{$null}
[pscustomobject]@{policy=($null -ne $au);no_auto_update=$au.NoAutoUpdate;au_options=$au.AUOptions;use_wsus=$au.UseWUServer;wsus=$wu.WUServer;service_start=$sv.StartMode;last_installed=$r.LastInstallationSuccessDate;last_searched=$r.LastSearchSuccessDate}|ConvertTo-Json -Compress -Depth 4`),
	apply: func(out []byte, _ time.Time, rep *inventory.HostReport) error {
		a, err := ParseWinAutoUpdate(out)
		if err != nil {
			return err
		}
		win(rep).AutoUpdate = &a
		return nil
	},
}

// ParseWinAutoUpdate parses the win_auto_updates probe. Updates are enabled
// unless the policy sets NoAutoUpdate=1 or wuauserv is disabled.
func ParseWinAutoUpdate(out []byte) (inventory.AutoUpdate, error) {
	var raw *struct {
		Policy        psBool   `json:"policy"`
		NoAutoUpdate  psInt    `json:"no_auto_update"`
		AUOptions     psInt    `json:"au_options"`
		UseWSUS       psInt    `json:"use_wsus"`
		WSUS          psString `json:"wsus"`
		ServiceStart  psString `json:"service_start"`
		LastInstalled psTime   `json:"last_installed"`
		LastSearched  psTime   `json:"last_searched"`
	}
	var a inventory.AutoUpdate
	if err := psUnmarshal(out, &raw); err != nil {
		return a, fmt.Errorf("parse win_auto_updates: %w", err)
	}
	if raw == nil {
		return a, fmt.Errorf("parse win_auto_updates: empty output")
	}
	a = inventory.AutoUpdate{
		Policy: bool(raw.Policy), AUOptions: nonNeg(raw.AUOptions), ServiceStart: snake(string(raw.ServiceStart)),
		LastInstalled: raw.LastInstalled.Time, LastSearched: raw.LastSearched.Time,
	}
	if raw.UseWSUS == 1 {
		a.WSUS = string(raw.WSUS)
	}
	a.Enabled = raw.NoAutoUpdate != 1 && !strings.EqualFold(a.ServiceStart, "disabled")
	return a, nil
}
