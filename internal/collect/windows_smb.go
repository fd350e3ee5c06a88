package collect

import (
	"fmt"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

// winSMBProbe reads the SMB server configuration and, where the scan user
// may (it needs elevation), the state of the SMB1Protocol optional feature.
var winSMBProbe = Probe{
	Name: "win_smb",
	Command: psCommand("win_smb", `
$s=Get-SmbServerConfiguration
$f=try{"$((Get-WindowsOptionalFeature -Online -FeatureName SMB1Protocol).State)"}catch{''}
[pscustomobject]@{smb1=$s.EnableSMB1Protocol;smb2=$s.EnableSMB2Protocol;require_signing=$s.RequireSecuritySignature;encrypt=$s.EncryptData;smb1_feature=$f}|ConvertTo-Json -Compress -Depth 4`),
	apply: func(out []byte, _ time.Time, rep *inventory.HostReport) error {
		s, err := ParseWinSMB(out)
		if err != nil {
			return err
		}
		win(rep).SMB = &s
		return nil
	},
}

// ParseWinSMB parses the win_smb probe. The feature state (Enabled,
// Disabled, DisabledWithPayloadRemoved, EnablePending ...) counts as
// installed unless it starts with "Disabled".
func ParseWinSMB(out []byte) (inventory.SMBConfig, error) {
	var raw *struct {
		SMB1           *psBool  `json:"smb1"`
		SMB2           psBool   `json:"smb2"`
		RequireSigning psBool   `json:"require_signing"`
		Encrypt        psBool   `json:"encrypt"`
		SMB1Feature    psString `json:"smb1_feature"`
	}
	var s inventory.SMBConfig
	if err := psUnmarshal(out, &raw); err != nil {
		return s, fmt.Errorf("parse win_smb: %w", err)
	}
	if raw == nil || raw.SMB1 == nil {
		return s, fmt.Errorf("parse win_smb: no smb1 field in the output")
	}
	s = inventory.SMBConfig{SMB1Enabled: bool(*raw.SMB1), SMB2Enabled: bool(raw.SMB2), RequireSigning: bool(raw.RequireSigning), EncryptData: bool(raw.Encrypt)}
	if f := string(raw.SMB1Feature); f != "" {
		s.SMB1FeatureKnown = true
		s.SMB1Feature = !strings.HasPrefix(strings.ToLower(f), "disabled")
	}
	return s, nil
}
