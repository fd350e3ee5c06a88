package collect

import (
	"context"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport"
)

// sapWindowsScript discovers SAP systems on a Windows host and prints the
// same "==> section <==" output as sapCommand, so ParseSAP reads both.
// Windows keeps SAP under <drive>:\usr\sap (the sapmnt share is its
// \usr\sap\<SID>\SYS directory) and registers each instance as a Windows
// service SAP<SID>_<NN> whose command line carries pf=<profile>: the
// services stand in for /usr/sap/sapservices. Like the Unix command it only
// lists, reads and asks programs for versions (disp+work.exe -version,
// sapcontrol.exe GetVersionInfo / ABAPGetComponentList); SIDs and instance
// directories are checked with the same patterns before use.
const sapWindowsScript = `
$S = $null
foreach ($d in (Get-PSDrive -PSProvider FileSystem)) { $p = Join-Path $d.Root 'usr\sap'; if (Test-Path -LiteralPath $p -PathType Container) { $S = $p; break } }
if (-not $S) { '==> absent <=='; exit 0 }
function Run-Exe($exe, [string[]]$a) {
  try { $o = & $exe @a 2>&1 | Out-String; if ($o.Length -gt 262144) { $o = $o.Substring(0, 262144) }; $o } catch { 'FAIL: ' + $_.Exception.Message }
}
function Show-File($f, $max) {
  try { $t = [IO.File]::ReadAllText($f); if ($t.Length -gt $max) { $t = $t.Substring(0, $max) }; $t } catch { '' }
}
'==> usrsap <=='
Get-ChildItem -LiteralPath $S -Directory | ForEach-Object { $_.Name }
'==> sapservices <=='
try { Get-CimInstance Win32_Service | Where-Object { $_.Name -match '^SAP[A-Z][A-Z0-9]{2}_\d\d$' } | ForEach-Object { $_.Name + ' # ' + $_.PathName } } catch { }
$T = Join-Path $S 'trans'
foreach ($sid in (Get-ChildItem -LiteralPath $S -Directory | Where-Object { $_.Name -cmatch '^[A-Z][A-Z0-9]{2}$' } | ForEach-Object { $_.Name })) {
  "==> sid $sid <=="
  $P = Join-Path $S "$sid\SYS\profile"
  if (Test-Path -LiteralPath $P) {
    Get-ChildItem -LiteralPath $P -File | Where-Object { $_.Name -eq 'DEFAULT.PFL' -or ($_.Name -like "${sid}_*" -and $_.Name -notmatch '(\.\d+|\.bak|\.old|\.sav|\.log|~)$') } | ForEach-Object {
      "==> profile $sid $($_.FullName.Replace('\','/')) <=="; Show-File $_.FullName 262144
    }
  }
  $comp = $false
  foreach ($i in (Get-ChildItem -LiteralPath (Join-Path $S $sid) -Directory | Where-Object { $_.Name -cmatch '^[A-Z]+\d\d$' })) {
    $n = $i.Name; $nr = $n.Substring($n.Length - 2)
    "==> instance $sid $n <=="
    $dw = Join-Path $i.FullName 'exe\disp+work.exe'; $sc = Join-Path $i.FullName 'exe\sapcontrol.exe'
    if (Test-Path -LiteralPath $dw) { "==> dispwork $sid $n <=="; Run-Exe $dw @('-version') }
    elseif (Test-Path -LiteralPath $sc) { "==> versioninfo $sid $n <=="; Run-Exe $sc @('-nr', $nr, '-function', 'GetVersionInfo') }
    if (-not $comp -and $n -cmatch '^(D|DVEBMGS)\d\d$' -and (Test-Path -LiteralPath $sc)) {
      $comp = $true; "==> components $sid $n <=="; Run-Exe $sc @('-nr', $nr, '-function', 'ABAPGetComponentList')
    }
  }
  $B = Join-Path $T "buffer\$sid"
  if (Test-Path -LiteralPath $B) { "==> tpbuffer $sid <=="; Show-File $B 1048576 }
  Get-ChildItem -Path (Join-Path $T 'log\ALOG*') -File -ErrorAction SilentlyContinue | Sort-Object LastWriteTime -Descending | Select-Object -First 2 | ForEach-Object {
    "==> tplog $sid $($_.FullName.Replace('\','/')) <=="
    Get-Content -LiteralPath $_.FullName -Tail 20000 | Where-Object { $_ -match " $sid " } | Select-Object -Last 2000
  }
}`

var sapWindowsProbe = Probe{
	Name:    inventory.SAPProbeName,
	Command: psCommand("sap", sapWindowsScript),
	apply:   sapProbe.apply,
}

// SAPWindowsCommand is the Windows SAP discovery command, for test servers.
func SAPWindowsCommand() string { return sapWindowsProbe.Command }

// ScanSAPWindows is ScanSAP for hosts reached over WinRM.
func ScanSAPWindows(ctx context.Context, r transport.Runner, rep *inventory.HostReport, now time.Time) error {
	return runProbe(ctx, r, sapWindowsProbe, rep, now)
}
