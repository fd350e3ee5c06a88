package collect

import (
	"fmt"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

// winDefenderProbe reads Get-MpComputerStatus. Where the cmdlet does not
// exist (no Defender feature, or a third-party antivirus removed it) the
// script says so instead of failing; any other error (access denied) fails
// the probe.
var winDefenderProbe = Probe{
	Name: "win_defender",
	Command: psCommand("win_defender", `
try{$s=Get-MpComputerStatus}catch [System.Management.Automation.CommandNotFoundException]{[pscustomobject]@{installed=$false;error="$($_.Exception.Message)"}|ConvertTo-Json -Compress;exit 0}
[pscustomobject]@{installed=$true;service_enabled=$s.AMServiceEnabled;antivirus_enabled=$s.AntivirusEnabled;real_time=$s.RealTimeProtectionEnabled;behavior_monitor=$s.BehaviorMonitorEnabled;tamper_protected=$s.IsTamperProtected;signature_version=$s.AntivirusSignatureVersion;signature_updated=$s.AntivirusSignatureLastUpdated;signature_age_days=$s.AntivirusSignatureAge;engine_version=$s.AMEngineVersion;product_version=$s.AMProductVersion}|ConvertTo-Json -Compress -Depth 4`),
	apply: func(out []byte, _ time.Time, rep *inventory.HostReport) error {
		d, err := ParseWinDefender(out)
		if err != nil {
			return err
		}
		win(rep).Defender = &d
		return nil
	},
}

// ParseWinDefender parses the win_defender probe. AntivirusSignatureAge is
// 65535 when signatures were never updated; it is kept as Defender says.
func ParseWinDefender(out []byte) (inventory.Defender, error) {
	var raw struct {
		Installed        *psBool  `json:"installed"`
		Error            psString `json:"error"`
		ServiceEnabled   psBool   `json:"service_enabled"`
		AntivirusEnabled psBool   `json:"antivirus_enabled"`
		RealTime         psBool   `json:"real_time"`
		BehaviorMonitor  psBool   `json:"behavior_monitor"`
		TamperProtected  psBool   `json:"tamper_protected"`
		SignatureVersion psString `json:"signature_version"`
		SignatureUpdated psTime   `json:"signature_updated"`
		SignatureAge     *psInt   `json:"signature_age_days"`
		EngineVersion    psString `json:"engine_version"`
		ProductVersion   psString `json:"product_version"`
	}
	var d inventory.Defender
	if err := psUnmarshal(out, &raw); err != nil {
		return d, fmt.Errorf("parse win_defender: %w", err)
	}
	if raw.Installed == nil {
		return d, fmt.Errorf("parse win_defender: no installed field in the output")
	}
	d = inventory.Defender{
		Installed: bool(*raw.Installed), Error: string(raw.Error),
		ServiceEnabled: bool(raw.ServiceEnabled), AntivirusEnabled: bool(raw.AntivirusEnabled),
		RealTimeProtection: bool(raw.RealTime), BehaviorMonitor: bool(raw.BehaviorMonitor), TamperProtected: bool(raw.TamperProtected),
		SignatureVersion: string(raw.SignatureVersion), SignatureUpdated: raw.SignatureUpdated.Time,
		SignatureAgeDays: -1, EngineVersion: string(raw.EngineVersion), ProductVersion: string(raw.ProductVersion),
	}
	if raw.SignatureAge != nil && *raw.SignatureAge >= 0 {
		d.SignatureAgeDays = nonNeg(*raw.SignatureAge)
	}
	return d, nil
}
