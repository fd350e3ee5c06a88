package collect

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

// winAdminsProbe lists the local Administrators group, found by its
// well-known SID (S-1-5-32-544) because its name is localised
// ("Administratoren", "Administrateurs"). Get-LocalGroupMember fails on
// groups holding an orphaned SID; the script then falls back to ADSI, which
// gives names and classes but not sources or SIDs.
var winAdminsProbe = Probe{
	Name: "win_admins",
	Command: psCommand("win_admins", `
$g=(New-Object Security.Principal.SecurityIdentifier 'S-1-5-32-544').Translate([Security.Principal.NTAccount]).Value.Split('\')[-1]
$m=try{@(Get-LocalGroupMember -SID 'S-1-5-32-544'|%{[pscustomobject]@{name=$_.Name;class="$($_.ObjectClass)";source="$($_.PrincipalSource)";sid="$($_.SID)"}})}catch{@(([ADSI]"WinNT://./$g,group").psbase.Invoke('Members')|%{[pscustomobject]@{name=$_.GetType().InvokeMember('ADsPath','GetProperty',$null,$_,$null);class=$_.GetType().InvokeMember('Class','GetProperty',$null,$_,$null);source='';sid=''}})}
[pscustomobject]@{group=$g;members=$m}|ConvertTo-Json -Compress -Depth 4`),
	apply: func(out []byte, _ time.Time, rep *inventory.HostReport) error {
		a, err := ParseWinAdmins(out)
		if err != nil {
			return err
		}
		win(rep).Administrators = a
		return nil
	},
}

// ParseWinAdmins parses the win_admins probe, sorted by name. ADSI paths
// (WinNT://DOMAIN/user, WinNT://WORKGROUP/HOST/user) become DOMAIN\user and
// HOST\user; classes and sources are normalised to user/group and
// local/active_directory/azure_ad/microsoft_account/unknown.
func ParseWinAdmins(out []byte) ([]inventory.GroupMember, error) {
	var raw *struct {
		Group   psString `json:"group"`
		Members psList[struct {
			Name   psString `json:"name"`
			Class  psString `json:"class"`
			Source psString `json:"source"`
			SID    psString `json:"sid"`
		}] `json:"members"`
	}
	if err := psUnmarshal(out, &raw); err != nil {
		return nil, fmt.Errorf("parse win_admins: %w", err)
	}
	if raw == nil {
		return nil, fmt.Errorf("parse win_admins: empty output")
	}
	ms := make([]inventory.GroupMember, 0, len(raw.Members))
	for _, m := range raw.Members {
		name := string(m.Name)
		if p, ok := strings.CutPrefix(name, "WinNT://"); ok {
			parts := strings.Split(p, "/")
			if len(parts) > 2 {
				parts = parts[len(parts)-2:]
			}
			name = strings.Join(parts, `\`)
		}
		if name == "" {
			continue
		}
		ms = append(ms, inventory.GroupMember{Name: name, Class: memberClass(string(m.Class)), Source: memberSource(string(m.Source)), SID: string(m.SID)})
	}
	sort.Slice(ms, func(i, j int) bool { return strings.ToLower(ms[i].Name) < strings.ToLower(ms[j].Name) })
	return ms, nil
}

func memberClass(s string) string {
	switch strings.ToLower(s) {
	case "user", "benutzer", "utilisateur", "ユーザー":
		return "user"
	case "group", "gruppe", "groupe", "グループ":
		return "group"
	}
	return strings.ToLower(s)
}

func memberSource(s string) string {
	switch strings.ToLower(s) {
	case "local":
		return "local"
	case "activedirectory":
		return "active_directory"
	case "azuread":
		return "azure_ad"
	case "microsoftaccount":
		return "microsoft_account"
	case "":
		return ""
	}
	return "unknown"
}
