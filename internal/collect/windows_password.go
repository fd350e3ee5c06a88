package collect

import (
	"fmt"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

// winPasswordPolicyProbe reads the local account policy through the ADSI
// WinNT provider, which reports it as numbers (seconds for durations) in
// every display language, unlike "net accounts", and without exporting the
// policy to a file as secedit would. Password complexity is not among the
// provider's properties and is not collected.
var winPasswordPolicyProbe = Probe{
	Name: "win_password_policy",
	Command: psCommand("win_password_policy", `
$c=[ADSI]"WinNT://$env:COMPUTERNAME"
[pscustomobject]@{min_length=$c.MinPasswordLength.Value;max_age=$c.MaxPasswordAge.Value;min_age=$c.MinPasswordAge.Value;history=$c.PasswordHistoryLength.Value;lockout_threshold=$c.MaxBadPasswordsAllowed.Value;lockout_duration=$c.AutoUnlockInterval.Value;lockout_window=$c.LockoutObservationInterval.Value}|ConvertTo-Json -Compress -Depth 4`),
	apply: func(out []byte, _ time.Time, rep *inventory.HostReport) error {
		p, err := ParseWinPasswordPolicy(out)
		if err != nil {
			return err
		}
		win(rep).PasswordPolicy = &p
		return nil
	},
}

// ParseWinPasswordPolicy parses the win_password_policy probe. A maximum
// age of -1 (or beyond ten years) is "never expires" and becomes 0, like
// the policy editor's "0 days".
func ParseWinPasswordPolicy(out []byte) (inventory.PasswordPolicy, error) {
	var raw *struct {
		MinLength        *psInt `json:"min_length"`
		MaxAge           psInt  `json:"max_age"`
		MinAge           psInt  `json:"min_age"`
		History          psInt  `json:"history"`
		LockoutThreshold psInt  `json:"lockout_threshold"`
		LockoutDuration  psInt  `json:"lockout_duration"`
		LockoutWindow    psInt  `json:"lockout_window"`
	}
	var p inventory.PasswordPolicy
	if err := psUnmarshal(out, &raw); err != nil {
		return p, fmt.Errorf("parse win_password_policy: %w", err)
	}
	if raw == nil || raw.MinLength == nil {
		return p, fmt.Errorf("parse win_password_policy: no min_length in the output")
	}
	const day, tenYears = 86400, 10 * 365 * 86400
	days := func(s psInt) int {
		if s <= 0 || s > tenYears {
			return 0
		}
		return int(s / day)
	}
	minutes := func(s psInt) int {
		if s <= 0 || s > tenYears {
			return 0
		}
		return int(s / 60)
	}
	p = inventory.PasswordPolicy{
		MinLength: nonNeg(*raw.MinLength), MaxAgeDays: days(raw.MaxAge), MinAgeDays: days(raw.MinAge),
		HistoryCount: nonNeg(raw.History), LockoutThreshold: nonNeg(raw.LockoutThreshold),
		LockoutDurationMin: minutes(raw.LockoutDuration), LockoutObservationMn: minutes(raw.LockoutWindow),
	}
	return p, nil
}
