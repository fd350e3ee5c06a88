package collect

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/compliance"
	"github.com/vigil-project/vigil/internal/inventory"
)

var winOSProbe = Probe{
	Name: "win_os",
	Command: psCommand("win_os", `
$o=Get-CimInstance Win32_OperatingSystem
$c=Get-CimInstance Win32_ComputerSystem
$k=Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion'
[pscustomobject]@{caption=$o.Caption;version=$o.Version;build=$o.BuildNumber;ubr=$k.UBR;edition=$k.EditionID;display_version=$k.DisplayVersion;release_id=$k.ReleaseId;installation_type=$k.InstallationType;product_type=$o.ProductType;arch=$o.OSArchitecture;install_date=$o.InstallDate;last_boot=$o.LastBootUpTime;local_time=$o.LocalDateTime;hostname=$c.DNSHostName;domain=$c.Domain;part_of_domain=$c.PartOfDomain}|ConvertTo-Json -Compress -Depth 4`),
	apply: func(out []byte, now time.Time, rep *inventory.HostReport) error {
		o, err := ParseWinOS(out)
		if err != nil {
			return err
		}
		rep.System.OS, rep.System.Kernel = o.OS, o.Kernel
		if o.Hostname != "" {
			rep.System.Hostname = o.Hostname
		}
		if !o.LastBoot.IsZero() {
			clock := o.LocalTime
			if clock.IsZero() {
				clock = now
			}
			rep.System.Uptime = inventory.Uptime{BootTime: o.LastBoot, Seconds: max(0, clock.Sub(o.LastBoot).Seconds())}
		}
		w := win(rep)
		w.Edition, w.DisplayVersion, w.InstallationType = o.Edition, o.DisplayVersion, o.InstallationType
		w.Build, w.UBR, w.InstallDate, w.Domain, w.PartOfDomain = o.Build, o.UBR, o.InstallDate, o.Domain, o.PartOfDomain
		// As for Linux (osrelease.go): the end of support from the table
		// the compliance checks use, by Server/client/Enterprise.
		if d, ok := compliance.EOLDate(compliance.WindowsEOLID(&rep.System), o.OS.VersionID); ok {
			rep.System.OS.EOLDate = d.Format(time.DateOnly)
		}
		return nil
	},
}

// WinOS is what the win_os probe reports.
type WinOS struct {
	OS               inventory.OS
	Kernel           inventory.Kernel
	Hostname         string
	Edition          string
	DisplayVersion   string
	InstallationType string
	Build, UBR       int
	InstallDate      time.Time
	LastBoot         time.Time
	LocalTime        time.Time // the host's clock at the probe, for uptime
	Domain           string
	PartOfDomain     bool
}

// ParseWinOS parses the win_os probe: Win32_OperatingSystem, the
// CurrentVersion registry key and Win32_ComputerSystem. OS.VersionID is
// "major.minor.build" (10.0.20348), the form Microsoft's lifecycle tables
// and NVD's Windows CPEs use.
func ParseWinOS(out []byte) (WinOS, error) {
	var raw struct {
		Caption          psString `json:"caption"`
		Version          psString `json:"version"`
		Build            psString `json:"build"`
		UBR              psInt    `json:"ubr"`
		Edition          psString `json:"edition"`
		DisplayVersion   psString `json:"display_version"`
		ReleaseID        psString `json:"release_id"`
		InstallationType psString `json:"installation_type"`
		ProductType      psInt    `json:"product_type"`
		Arch             psString `json:"arch"`
		InstallDate      psTime   `json:"install_date"`
		LastBoot         psTime   `json:"last_boot"`
		LocalTime        psTime   `json:"local_time"`
		Hostname         psString `json:"hostname"`
		Domain           psString `json:"domain"`
		PartOfDomain     psBool   `json:"part_of_domain"`
	}
	var w WinOS
	if err := psUnmarshal(out, &raw); err != nil {
		return w, fmt.Errorf("parse win_os: %w", err)
	}
	version := string(raw.Version)
	if raw.Caption == "" || version == "" {
		return w, errors.New("parse win_os: no caption or version in the output")
	}
	parts := strings.Split(version, ".")
	if len(parts) < 3 {
		return w, fmt.Errorf("parse win_os: version %q is not major.minor.build", version)
	}
	for _, p := range parts {
		if _, err := strconv.Atoi(p); err != nil {
			return w, fmt.Errorf("parse win_os: version %q is not numeric", version)
		}
	}
	w.Build, _ = strconv.Atoi(parts[2])
	w.UBR = int(raw.UBR)
	w.DisplayVersion = string(raw.DisplayVersion)
	if w.DisplayVersion == "" {
		w.DisplayVersion = string(raw.ReleaseID) // 1607 .. 2004 had only ReleaseId
	}
	w.Edition, w.InstallationType = string(raw.Edition), string(raw.InstallationType)
	if w.InstallationType == "" {
		// ProductType 1 is a workstation; 2 (domain controller) and 3 are servers.
		if raw.ProductType == 1 {
			w.InstallationType = "Client"
		} else if raw.ProductType > 1 {
			w.InstallationType = "Server"
		}
	}
	caption := strings.TrimSpace(string(raw.Caption))
	release := version
	if w.UBR > 0 {
		release += "." + strconv.Itoa(w.UBR)
	}
	pretty := caption + " (build " + strings.TrimPrefix(release, parts[0]+"."+parts[1]+".")
	if w.DisplayVersion != "" {
		pretty = caption + " " + w.DisplayVersion + " (build " + strings.TrimPrefix(release, parts[0]+"."+parts[1]+".")
	}
	w.OS = inventory.OS{
		Family:     inventory.OSFamilyWindows,
		ID:         inventory.OSFamilyWindows,
		VersionID:  strings.Join(parts[:3], "."),
		Name:       caption,
		PrettyName: pretty + ")",
		Codename:   w.DisplayVersion,
		Source:     "Win32_OperatingSystem",
	}
	w.Kernel = inventory.Kernel{Name: "Windows_NT", Release: release, Version: caption, Machine: winArch(string(raw.Arch))}
	w.Hostname = strings.ToLower(string(raw.Hostname))
	w.InstallDate, w.LastBoot, w.LocalTime = raw.InstallDate.Time, raw.LastBoot.Time, raw.LocalTime.Time
	w.Domain, w.PartOfDomain = string(raw.Domain), bool(raw.PartOfDomain)
	return w, nil
}

// winArch maps OSArchitecture, which Windows localises ("64-Bit",
// "64 ビット", "ARM 64-bit Processor"), to uname -m's names.
func winArch(s string) string {
	l := strings.ToLower(s)
	switch {
	case strings.Contains(l, "arm"):
		return "aarch64"
	case strings.Contains(l, "64"):
		return "x86_64"
	case strings.Contains(l, "32"):
		return "i686"
	}
	return ""
}
