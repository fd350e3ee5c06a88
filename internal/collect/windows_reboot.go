package collect

import (
	"fmt"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

// winRebootProbe checks the usual pending-restart markers: Component Based
// Servicing's RebootPending key, Windows Update's RebootRequired key,
// PendingFileRenameOperations, and a computer rename awaiting a restart.
var winRebootProbe = Probe{
	Name: "win_reboot",
	Command: psCommand("win_reboot", `
$r=@()
if(Test-Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending'){$r+='cbs'}
if(Test-Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired'){$r+='windows_update'}
if((Get-ItemProperty 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager' -EA SilentlyContinue).PendingFileRenameOperations){$r+='file_rename'}
$c='HKLM:\SYSTEM\CurrentControlSet\Control\ComputerName\';if((Get-ItemProperty ($c+'ActiveComputerName')).ComputerName -ne (Get-ItemProperty ($c+'ComputerName')).ComputerName){$r+='computer_rename'}
[pscustomobject]@{reasons=$r}|ConvertTo-Json -Compress -Depth 4`),
	apply: func(out []byte, _ time.Time, rep *inventory.HostReport) error {
		p, err := ParseWinReboot(out)
		if err != nil {
			return err
		}
		win(rep).PendingReboot = &p
		return nil
	},
}

var rebootReasons = map[string]bool{"cbs": true, "windows_update": true, "file_rename": true, "computer_rename": true}

// ParseWinReboot parses the win_reboot probe. Unknown reason words are
// dropped rather than trusted.
func ParseWinReboot(out []byte) (inventory.PendingReboot, error) {
	var raw *struct {
		Reasons psList[psString] `json:"reasons"`
	}
	p := inventory.PendingReboot{Reasons: []string{}}
	if err := psUnmarshal(out, &raw); err != nil {
		return p, fmt.Errorf("parse win_reboot: %w", err)
	}
	if raw == nil {
		return p, fmt.Errorf("parse win_reboot: empty output")
	}
	for _, r := range raw.Reasons {
		if rebootReasons[string(r)] {
			p.Reasons = append(p.Reasons, string(r))
		}
	}
	p.Pending = len(p.Reasons) > 0
	return p, nil
}
