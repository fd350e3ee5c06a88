package collect

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

// winAccountsProbe lists the local user accounts (Win32_UserAccount with
// LocalAccount=True, so a domain controller's domain is not enumerated).
var winAccountsProbe = Probe{
	Name: "win_accounts",
	Command: psCommand("win_accounts", `
ConvertTo-Json -Compress -Depth 4 -InputObject @(Get-CimInstance Win32_UserAccount -Filter 'LocalAccount=True'|%{[pscustomobject]@{name=$_.Name;sid=$_.SID;disabled=$_.Disabled;password_required=$_.PasswordRequired}})`),
	apply: func(out []byte, _ time.Time, rep *inventory.HostReport) error {
		a, err := ParseWinAccounts(out)
		if err != nil {
			return err
		}
		win(rep).Accounts = a
		return nil
	},
}

// builtinRIDs names the well-known local accounts by their relative ID;
// their names are localised or renamed, their RIDs are not.
var builtinRIDs = map[string]string{"500": "administrator", "501": "guest", "503": "default_account", "504": "wdag_utility"}

// ParseWinAccounts parses the win_accounts probe, sorted by name.
func ParseWinAccounts(out []byte) ([]inventory.LocalAccount, error) {
	var raw psList[struct {
		Name             psString `json:"name"`
		SID              psString `json:"sid"`
		Disabled         psBool   `json:"disabled"`
		PasswordRequired psBool   `json:"password_required"`
	}]
	if err := psUnmarshal(out, &raw); err != nil {
		return nil, fmt.Errorf("parse win_accounts: %w", err)
	}
	as := make([]inventory.LocalAccount, 0, len(raw))
	for _, e := range raw {
		if e.Name == "" {
			continue
		}
		a := inventory.LocalAccount{Name: string(e.Name), SID: string(e.SID), Enabled: !bool(e.Disabled), PasswordRequired: bool(e.PasswordRequired)}
		if i := strings.LastIndexByte(a.SID, '-'); i > 0 && strings.HasPrefix(a.SID, "S-1-5-21-") {
			a.Builtin = builtinRIDs[a.SID[i+1:]]
		}
		as = append(as, a)
	}
	sort.Slice(as, func(i, j int) bool { return strings.ToLower(as[i].Name) < strings.ToLower(as[j].Name) })
	return as, nil
}

// WinAccountsItem is the win_accounts compliance item: the accounts and
// what checks ask of the built-in ones.
type WinAccountsItem struct {
	Accounts             []inventory.LocalAccount `json:"accounts"`
	GuestPresent         bool                     `json:"guest_present"`
	GuestEnabled         bool                     `json:"guest_enabled"`
	AdministratorEnabled bool                     `json:"administrator_enabled"`
	// AdministratorName is the built-in administrator's current name;
	// CIS asks for it to be renamed.
	AdministratorName string `json:"administrator_name"`
}

func winAccountsItem(out []byte) (any, error) {
	as, err := ParseWinAccounts(out)
	if err != nil {
		return nil, err
	}
	it := WinAccountsItem{Accounts: as}
	for _, a := range as {
		switch a.Builtin {
		case "guest":
			it.GuestPresent, it.GuestEnabled = true, a.Enabled
		case "administrator":
			it.AdministratorEnabled, it.AdministratorName = a.Enabled, a.Name
		}
	}
	return it, nil
}
