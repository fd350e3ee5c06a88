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
// services stand in for /usr/sap/sapservices. They are listed twice, from
// WMI ("sapservices") and from the registry's Services key
// ("winservices"), since WMI is often denied to non-admin WinRM users
// while the key is readable. The allow-listed values of each
// HKLM\SOFTWARE\SAP\<SID>\Environment key (and its WOW6432Node twin) are
// printed as "sapregistry" (sap_win_registry.go parses all three). A host
// whose drives show no \usr\sap takes the one a service runs from.
//
// Like the Unix command it only lists, reads (Get-ChildItem -Name and
// Get-ItemProperty on registry keys) and asks programs for versions
// (disp+work.exe -version, sapcontrol.exe GetVersionInfo /
// ABAPGetComponentList); SIDs and instance names, wherever they come from,
// are checked with the same patterns before they are used in a path.
// Outputs are capped.
const sapWindowsScript = `
$S = $null
foreach ($d in (Get-PSDrive -PSProvider FileSystem)) { $p = Join-Path $d.Root 'usr\sap'; if (Test-Path -LiteralPath $p -PathType Container) { $S = $p; break } }
function Run-Exe($exe, [string[]]$a) {
  try { $o = & $exe @a 2>&1 | Out-String; if ($o.Length -gt 262144) { $o = $o.Substring(0, 262144) }; $o } catch { 'FAIL: ' + $_.Exception.Message }
}
function Show-File($f, $max) {
  try { $t = [IO.File]::ReadAllText($f); if ($t.Length -gt $max) { $t = $t.Substring(0, $max) }; $t } catch { '' }
}
function Clip($s, $max) { $s = ([string]$s) -replace '[\r\n]+', ' '; if ($s.Length -gt $max) { $s = $s.Substring(0, $max) }; $s }
$svcRE = '^SAP[A-Z][A-Z0-9]{2}_\d\d$'
$wmi = @(try { Get-CimInstance Win32_Service | Where-Object { $_.Name -cmatch $svcRE } | Select-Object -First 200 | ForEach-Object { $_.Name + ' # ' + (Clip $_.PathName 4096) } } catch { 'FAIL: ' + (Clip $_.Exception.Message 300) })
$SK = 'HKLM:\SYSTEM\CurrentControlSet\Services'
$reg = @(try {
  Get-ChildItem -LiteralPath $SK -Name | Where-Object { $_ -cmatch $svcRE } | Select-Object -First 200 | ForEach-Object {
    $n = $_
    try { $n + ' # ' + (Clip (Get-ItemProperty -LiteralPath "$SK\$n" -Name ImagePath).ImagePath 4096) } catch { $n + ' ! ' + (Clip $_.Exception.Message 300) }
  }
} catch { 'FAIL: ' + (Clip $_.Exception.Message 300) })
if (-not $S) {
  foreach ($l in ($reg + $wmi)) {
    if ($l -cmatch '^SAP([A-Z][A-Z0-9]{2})_\d\d # "?([A-Za-z]):\\(?i:usr\\sap)\\([A-Z][A-Z0-9]{2})\\[A-Z]+\d\d\\(?i:exe)\\' -and $Matches[1] -ceq $Matches[3]) {
      $p = $Matches[2] + ':\usr\sap'
      if (Test-Path -LiteralPath $p -PathType Container) { $S = $p; break }
    }
  }
}
$envNames = @('SAPSYSTEMNAME', 'SAPLOCALHOST', 'SAPDBHOST', 'SAPEXE', 'DIR_LIBRARY', 'JAVA_HOME', 'dbms_type', 'dbs_mss_server', 'dbs_mss_schema', 'MSSQL_SERVER', 'MSSQL_DBNAME')
$sapReg = @(foreach ($root in @('SOFTWARE\SAP', 'SOFTWARE\WOW6432Node\SAP')) {
  "[HKLM\$root]"
  try { $rs = @(Get-ChildItem -LiteralPath "HKLM:\$root" -Name | Where-Object { $_ -cmatch '^[A-Z][A-Z0-9]{2}$' } | Select-Object -First 50) }
  catch [Management.Automation.ItemNotFoundException] { '!missing'; continue }
  catch { '!unreadable: ' + (Clip $_.Exception.Message 300); continue }
  foreach ($sid in $rs) {
    "[HKLM\$root\$sid\Environment]"
    try {
      $e = Get-ItemProperty -LiteralPath "HKLM:\$root\$sid\Environment"
      foreach ($n in $envNames) { $v = $e.$n; if ($null -ne $v) { $n + '=' + (Clip ($v -join ';') 1024) } }
    } catch [Management.Automation.ItemNotFoundException] { '!missing' } catch { '!unreadable: ' + (Clip $_.Exception.Message 300) }
  }
})
$known = @(foreach ($l in ($reg + $wmi)) { if ($l -cmatch '^SAP([A-Z][A-Z0-9]{2})_\d\d ') { $Matches[1] } }) +
  @(foreach ($l in $sapReg) { if ($l -cmatch '^\[HKLM\\SOFTWARE\\(WOW6432Node\\)?SAP\\([A-Z][A-Z0-9]{2})\\Environment\]$') { $Matches[2] } })
if (-not $S -and $known.Count -eq 0) { '==> absent <=='; exit 0 }
'==> sapservices <=='
$wmi
'==> winservices <=='
$reg
'==> sapregistry <=='
$sapReg
if (-not $S) { '==> usrsap (missing) <=='; exit 0 }
try { $dirs = @(Get-ChildItem -LiteralPath $S -Directory | ForEach-Object { $_.Name }); '==> usrsap <=='; $dirs } catch { $dirs = @(); '==> usrsap (unreadable) <==' }
$T = Join-Path $S 'trans'
foreach ($sid in (@($dirs | Where-Object { $_ -cmatch '^[A-Z][A-Z0-9]{2}$' }) + $known | Sort-Object -Unique)) {
  if (-not (Test-Path -LiteralPath (Join-Path $S $sid) -PathType Container)) { continue }
  "==> sid $sid <=="
  $P = Join-Path $S "$sid\SYS\profile"
  if (Test-Path -LiteralPath $P) {
    Get-ChildItem -LiteralPath $P -File -ErrorAction SilentlyContinue | Where-Object { $_.Name -eq 'DEFAULT.PFL' -or ($_.Name -like "${sid}_*" -and $_.Name -notmatch '(\.\d+|\.bak|\.old|\.sav|\.log|~)$') } | ForEach-Object {
      "==> profile $sid $($_.FullName.Replace('\','/')) <=="; Show-File $_.FullName 262144
    }
  }
  $comp = $false
  foreach ($i in (Get-ChildItem -LiteralPath (Join-Path $S $sid) -Directory -ErrorAction SilentlyContinue | Where-Object { $_.Name -cmatch '^[A-Z]+\d\d$' })) {
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
