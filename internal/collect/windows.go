package collect

import (
	"context"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport"
)

// Windows hosts are scanned over WinRM with PowerShell probes, one file per
// probe (windows_*.go): each holds its script and the pure parser of the
// JSON the script prints. The scripts only read (CIM queries, registry
// reads, Get-* cmdlets); none writes a file or a setting on the host.
//
// Every script starts with a "# vigil:probe NAME" line, so a probe can be
// recognised in the host's PowerShell logs and by test servers, and runs
// after psPreamble. The command sent is transport.PowerShell(script): the
// exact command string is the contract, as for Linux probes.

// psPreamble makes every script stop at its first error (so a failure is an
// exit code and an error text, not half a JSON document), suppresses
// progress records, and asks for UTF-8 output. Setting the console encoding
// fails on hosts without a console handle, which is harmless.
const psPreamble = "$ErrorActionPreference='Stop';$ProgressPreference='SilentlyContinue';" +
	"try{[Console]::OutputEncoding=[Text.Encoding]::UTF8}catch{}\n"

func psCommand(name, script string) string {
	return transport.PowerShell("# vigil:probe " + name + "\n" + psPreamble + strings.TrimSpace(script) + "\n")
}

// windowsProbes run on every Windows host, in this order: win_os first,
// since it says the host is Windows.
var windowsProbes = []Probe{
	winOSProbe,
	winHardwareProbe,
	winNetworkProbe,
	winSoftwareProbe,
	winHotfixesProbe,
	winServicesProbe,
	winFirewallProbe,
	winDefenderProbe,
	winRebootProbe,
	winAdminsProbe,
	winAccountsProbe,
	winPasswordPolicyProbe,
	winSMBProbe,
	winRDPProbe,
	winAutoUpdateProbe,
}

// WindowsCommands returns the command of every Windows scan probe, keyed by
// probe name.
func WindowsCommands() map[string]string {
	m := make(map[string]string, len(windowsProbes))
	for _, p := range windowsProbes {
		m[p.Name] = p.Command
	}
	return m
}

// ScanWindows runs the Windows probes, filling rep.System (with
// System.Windows) and rep.Packages (ecosystem "windows"), one ProbeResult
// per probe. As with Scan, a probe that fails on the host is recorded and
// skipped, and a Runner error other than *transport.ExitError stops the scan.
func ScanWindows(ctx context.Context, r transport.Runner, rep *inventory.HostReport, now time.Time) error {
	rep.Packages = []inventory.Package{}
	if rep.System.Windows == nil {
		rep.System.Windows = &inventory.Windows{}
	}
	for _, p := range windowsProbes {
		if err := runProbe(ctx, r, p, rep, now); err != nil {
			return err
		}
	}
	return nil
}

// win returns the report's Windows part, creating it.
func win(rep *inventory.HostReport) *inventory.Windows {
	if rep.System.Windows == nil {
		rep.System.Windows = &inventory.Windows{}
	}
	return rep.System.Windows
}

// windowsItemProbes are the compliance items of the Windows catalogue. Each
// shares its command with the scan probe of the same data, so an agent that
// remembers outputs within one scan runs it once.
var windowsItemProbes = []itemProbe{
	{name: "win_firewall", command: winFirewallProbe.Command, parse: func(out []byte) (any, error) { return ParseWinFirewall(out) }},
	{name: "win_defender", command: winDefenderProbe.Command, parse: func(out []byte) (any, error) { return ParseWinDefender(out) }},
	{name: "win_reboot_pending", command: winRebootProbe.Command, parse: func(out []byte) (any, error) { return ParseWinReboot(out) }},
	{name: "win_services", command: winServicesProbe.Command, parse: winServicesItem},
	{name: "win_admins", command: winAdminsProbe.Command, parse: func(out []byte) (any, error) { return ParseWinAdmins(out) }},
	{name: "win_accounts", command: winAccountsProbe.Command, parse: winAccountsItem},
	{name: "win_password_policy", command: winPasswordPolicyProbe.Command, parse: func(out []byte) (any, error) { return ParseWinPasswordPolicy(out) }},
	{name: "win_smb", command: winSMBProbe.Command, parse: func(out []byte) (any, error) { return ParseWinSMB(out) }},
	{name: "win_rdp", command: winRDPProbe.Command, parse: func(out []byte) (any, error) { return ParseWinRDP(out) }},
	{name: "win_auto_updates", command: winAutoUpdateProbe.Command, parse: func(out []byte) (any, error) { return ParseWinAutoUpdate(out) }},
	winRegistryItem,
}

// IsWindowsItem reports whether a probe item belongs to the Windows
// catalogue (its name starts with "win_").
func IsWindowsItem(name string) bool { return strings.HasPrefix(name, "win_") }

// WindowsProbeOf names the probe a command line runs, from the
// "# vigil:probe NAME" line of its encoded script; ok is false for anything
// else. Test servers and demo hosts use it to answer with recorded outputs.
func WindowsProbeOf(command string) (name string, ok bool) {
	script, ok := transport.DecodePowerShell(command)
	if !ok {
		return "", false
	}
	first, _, _ := strings.Cut(script, "\n")
	name, ok = strings.CutPrefix(first, "# vigil:probe ")
	return name, ok && name != ""
}
