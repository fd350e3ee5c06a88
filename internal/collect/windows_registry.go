package collect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// winRegistryValues is the allowlist of registry values the win_registry
// item reads: security settings the CIS Windows benchmarks judge, none of
// which holds a secret (Winlogon's DefaultPassword is deliberately absent).
// The item takes no parameter; a check reads the values it needs from the
// map, keyed as written here. Adding a value is a code change, reviewed
// like any other probe.
var winRegistryValues = []string{
	`HKLM\SYSTEM\CurrentControlSet\Control\Lsa\LmCompatibilityLevel`,
	`HKLM\SYSTEM\CurrentControlSet\Control\Lsa\NoLMHash`,
	`HKLM\SYSTEM\CurrentControlSet\Control\Lsa\RestrictAnonymous`,
	`HKLM\SYSTEM\CurrentControlSet\Control\Lsa\RestrictAnonymousSAM`,
	`HKLM\SYSTEM\CurrentControlSet\Control\Lsa\EveryoneIncludesAnonymous`,
	`HKLM\SYSTEM\CurrentControlSet\Control\Lsa\LimitBlankPasswordUse`,
	`HKLM\SYSTEM\CurrentControlSet\Control\Lsa\RunAsPPL`,
	`HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\WDigest\UseLogonCredential`,
	`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System\EnableLUA`,
	`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System\ConsentPromptBehaviorAdmin`,
	`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System\FilterAdministratorToken`,
	`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System\LocalAccountTokenFilterPolicy`,
	`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System\InactivityTimeoutSecs`,
	`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\Explorer\NoDriveTypeAutoRun`,
	`HKLM\SOFTWARE\Policies\Microsoft\Windows NT\DNSClient\EnableMulticast`,
	`HKLM\SYSTEM\CurrentControlSet\Services\LanmanServer\Parameters\RequireSecuritySignature`,
	`HKLM\SYSTEM\CurrentControlSet\Services\LanmanWorkstation\Parameters\RequireSecuritySignature`,
	`HKLM\SYSTEM\CurrentControlSet\Services\LanmanWorkstation\Parameters\EnablePlainTextPassword`,
	`HKLM\SYSTEM\CurrentControlSet\Services\NetBT\Parameters\NodeType`,
	`HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon\AutoAdminLogon`,
	`HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon\CachedLogonsCount`,
	`HKLM\SOFTWARE\Policies\Microsoft\Windows\EventLog\Security\MaxSize`,
	`HKLM\SOFTWARE\Policies\Microsoft\Windows\PowerShell\ScriptBlockLogging\EnableScriptBlockLogging`,
}

var winRegistryItem = itemProbe{
	name:    "win_registry",
	command: psCommand("win_registry", winRegistryScript()),
	parse:   func(out []byte) (any, error) { return ParseWinRegistry(out) },
}

// winRegistryScript reads every allowlisted value with -LiteralPath, so no
// wildcard in a key is expanded; a missing key or value is null.
func winRegistryScript() string {
	var b strings.Builder
	b.WriteString("$v=[ordered]@{}\nforeach($e in @(")
	for i, p := range winRegistryValues {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("'" + p + "'")
	}
	b.WriteString(")){$i=$e.LastIndexOf('\\');$k='Registry::HKEY_LOCAL_MACHINE'+$e.Substring(4,$i-4);$n=$e.Substring($i+1)\n")
	b.WriteString("$x=Get-ItemProperty -LiteralPath $k -Name $n -EA SilentlyContinue;$v[$e]=if($null -ne $x){$x.$n}else{$null}}\n")
	b.WriteString("$v|ConvertTo-Json -Compress -Depth 4")
	return b.String()
}

// ParseWinRegistry parses the win_registry item: a map from the allowlisted
// value paths to their data. DWORDs and QWORDs become numbers, strings stay
// strings, REG_MULTI_SZ becomes a list; values that are absent or null are
// left out, so a check tests `path in items["probe:win_registry"]` for
// "configured at all". Keys outside the allowlist are dropped.
func ParseWinRegistry(out []byte) (map[string]any, error) {
	var raw map[string]json.RawMessage
	if err := psUnmarshal(out, &raw); err != nil {
		return nil, fmt.Errorf("parse win_registry: %w", err)
	}
	if raw == nil {
		return nil, fmt.Errorf("parse win_registry: empty output")
	}
	allowed := make(map[string]bool, len(winRegistryValues))
	for _, p := range winRegistryValues {
		allowed[p] = true
	}
	vals := map[string]any{}
	for k, v := range raw {
		if !allowed[k] {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.UseNumber()
		var x any
		if err := dec.Decode(&x); err != nil || x == nil {
			continue
		}
		switch t := x.(type) {
		case json.Number:
			if i, err := t.Int64(); err == nil {
				vals[k] = i
			} else if f, err := t.Float64(); err == nil {
				vals[k] = f
			}
		case string, bool:
			vals[k] = t
		case []any:
			l := make([]string, 0, len(t))
			for _, e := range t {
				if s, ok := e.(string); ok {
					l = append(l, s)
				}
			}
			vals[k] = l
		}
	}
	return vals, nil
}
