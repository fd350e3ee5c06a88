package collect

import (
	"fmt"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

// winRDPProbe reads Remote Desktop's settings from the Terminal Server key,
// the RDP-Tcp listener, and the Group Policy key that overrides both.
var winRDPProbe = Probe{
	Name: "win_rdp",
	Command: psCommand("win_rdp", `
$t='HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server';$tv=Get-ItemProperty $t;$wv=Get-ItemProperty "$t\WinStations\RDP-Tcp"
$pv=Get-ItemProperty 'HKLM:\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services' -EA SilentlyContinue
[pscustomobject]@{deny=$tv.fDenyTSConnections;nla=$wv.UserAuthentication;security_layer=$wv.SecurityLayer;min_encryption=$wv.MinEncryptionLevel;port=$wv.PortNumber;policy_deny=$pv.fDenyTSConnections;policy_nla=$pv.UserAuthentication;policy_security_layer=$pv.SecurityLayer;policy_min_encryption=$pv.MinEncryptionLevel}|ConvertTo-Json -Compress -Depth 4`),
	apply: func(out []byte, _ time.Time, rep *inventory.HostReport) error {
		r, err := ParseWinRDP(out)
		if err != nil {
			return err
		}
		win(rep).RDP = &r
		return nil
	},
}

// ParseWinRDP parses the win_rdp probe. A policy value, when set, wins over
// the local one, as Windows applies them; Source says "policy" when any
// policy value was set.
func ParseWinRDP(out []byte) (inventory.RDPConfig, error) {
	var raw *struct {
		Deny          *psInt `json:"deny"`
		NLA           *psInt `json:"nla"`
		SecurityLayer *psInt `json:"security_layer"`
		MinEncryption *psInt `json:"min_encryption"`
		Port          psInt  `json:"port"`
		PDeny         *psInt `json:"policy_deny"`
		PNLA          *psInt `json:"policy_nla"`
		PSecLayer     *psInt `json:"policy_security_layer"`
		PMinEnc       *psInt `json:"policy_min_encryption"`
	}
	var r inventory.RDPConfig
	if err := psUnmarshal(out, &raw); err != nil {
		return r, fmt.Errorf("parse win_rdp: %w", err)
	}
	if raw == nil || raw.Deny == nil {
		return r, fmt.Errorf("parse win_rdp: no fDenyTSConnections in the output")
	}
	r.Source = "local"
	pick := func(policy, local *psInt, def int) int {
		if policy != nil {
			r.Source = "policy"
			return int(*policy)
		}
		if local != nil {
			return int(*local)
		}
		return def
	}
	r.Enabled = pick(raw.PDeny, raw.Deny, 1) == 0
	r.NLA = pick(raw.PNLA, raw.NLA, 0) == 1
	r.SecurityLayer = pick(raw.PSecLayer, raw.SecurityLayer, 1)
	r.MinEncryptionLevel = pick(raw.PMinEnc, raw.MinEncryption, 2)
	if raw.Port > 0 && raw.Port < 65536 {
		r.Port = int(raw.Port)
	}
	return r, nil
}
