package collect

import (
	"fmt"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

// winHardwareProbe reads CPU, memory, fixed disks and the SMBIOS identity
// from CIM. The serial number and UUID are readable by any WinRM user.
var winHardwareProbe = Probe{
	Name: "win_hardware",
	Command: psCommand("win_hardware", `
$cs=Get-CimInstance Win32_ComputerSystem;$b=Get-CimInstance Win32_BIOS;$pr=Get-CimInstance Win32_ComputerSystemProduct
$en=@(Get-CimInstance Win32_SystemEnclosure)[0];$os=Get-CimInstance Win32_OperatingSystem;$p=@(Get-CimInstance Win32_Processor)
[pscustomobject]@{manufacturer=$cs.Manufacturer;model=$cs.Model;hypervisor_present=$cs.HypervisorPresent;serial=$b.SerialNumber;bios_vendor=$b.Manufacturer;bios_version=$b.SMBIOSBIOSVersion;uuid=$pr.UUID;asset_tag=$en.SMBIOSAssetTag;cpu_model=$p[0].Name;sockets=$p.Count;cores=($p|Measure-Object NumberOfCores -Sum).Sum;threads=($p|Measure-Object NumberOfLogicalProcessors -Sum).Sum;memory_bytes=$cs.TotalPhysicalMemory;memory_free_kb=$os.FreePhysicalMemory;pagefile_kb=$os.SizeStoredInPagingFiles;disks=@(Get-CimInstance Win32_LogicalDisk -Filter 'DriveType=3'|%{[pscustomobject]@{device=$_.DeviceID;fs=$_.FileSystem;size=$_.Size;free=$_.FreeSpace}})}|ConvertTo-Json -Compress -Depth 4`),
	apply: func(out []byte, _ time.Time, rep *inventory.HostReport) error {
		h, err := ParseWinHardware(out)
		if err != nil {
			return err
		}
		rep.System.CPU, rep.System.Memory, rep.System.Hardware, rep.System.Filesystems = h.CPU, h.Memory, h.Hardware, h.Filesystems
		return nil
	},
}

// WinHardware is what the win_hardware probe reports.
type WinHardware struct {
	CPU         inventory.CPU
	Memory      inventory.Memory
	Hardware    inventory.Hardware
	Filesystems []inventory.Filesystem
}

// ParseWinHardware parses the win_hardware probe. Virtualisation and cloud
// are judged from the SMBIOS strings with the same rules as on Linux (an
// Azure VM is a Hyper-V "Virtual Machine" with Azure's asset tag).
func ParseWinHardware(out []byte) (WinHardware, error) {
	var raw struct {
		Manufacturer      psString `json:"manufacturer"`
		Model             psString `json:"model"`
		HypervisorPresent psBool   `json:"hypervisor_present"`
		Serial            psString `json:"serial"`
		BIOSVendor        psString `json:"bios_vendor"`
		BIOSVersion       psString `json:"bios_version"`
		UUID              psString `json:"uuid"`
		AssetTag          psString `json:"asset_tag"`
		CPUModel          psString `json:"cpu_model"`
		Sockets           psInt    `json:"sockets"`
		Cores             psInt    `json:"cores"`
		Threads           psInt    `json:"threads"`
		MemoryBytes       psInt    `json:"memory_bytes"`
		MemoryFreeKB      psInt    `json:"memory_free_kb"`
		PagefileKB        psInt    `json:"pagefile_kb"`
		Disks             psList[struct {
			Device psString `json:"device"`
			FS     psString `json:"fs"`
			Size   psInt    `json:"size"`
			Free   psInt    `json:"free"`
		}] `json:"disks"`
	}
	var h WinHardware
	if err := psUnmarshal(out, &raw); err != nil {
		return h, fmt.Errorf("parse win_hardware: %w", err)
	}
	h.CPU = inventory.CPU{Model: strings.Join(strings.Fields(string(raw.CPUModel)), " "), Sockets: nonNeg(raw.Sockets), Cores: nonNeg(raw.Cores), Threads: nonNeg(raw.Threads)}
	h.Memory = inventory.Memory{TotalBytes: uint64(nonNeg(raw.MemoryBytes)), AvailableBytes: uint64(nonNeg(raw.MemoryFreeKB)) * 1024, SwapTotalBytes: uint64(nonNeg(raw.PagefileKB)) * 1024}
	kv := map[string]string{
		"sys_vendor": string(raw.Manufacturer), "product_name": string(raw.Model), "bios_vendor": string(raw.BIOSVendor),
		"bios_version": string(raw.BIOSVersion), "chassis_asset_tag": string(raw.AssetTag), "product_uuid": strings.ToLower(string(raw.UUID)),
	}
	hw := inventory.Hardware{Vendor: string(raw.Manufacturer), Product: string(raw.Model), Serial: string(raw.Serial),
		UUID: strings.ToLower(string(raw.UUID)), BIOSVersion: string(raw.BIOSVersion)}
	if raw.Manufacturer != "" || raw.Model != "" {
		hw.Virtualization = dmiHypervisor(kv)
		if hw.Virtualization == "" {
			hw.Virtualization = "none"
			// HypervisorPresent is also true on a physical host
			// running Hyper-V or virtualisation-based security, so it
			// only says "some hypervisor" when DMI named none.
			if bool(raw.HypervisorPresent) && strings.Contains(strings.ToLower(string(raw.Model)), "virtual") {
				hw.Virtualization = "vm (unknown hypervisor)"
			}
		}
		hw.Cloud = cloud(kv, true)
	}
	h.Hardware = hw
	for _, d := range raw.Disks {
		if d.Device == "" {
			continue
		}
		size, free := uint64(nonNeg(d.Size)), uint64(nonNeg(d.Free))
		free = min(free, size)
		h.Filesystems = append(h.Filesystems, inventory.Filesystem{Device: string(d.Device), Mountpoint: string(d.Device) + `\`,
			Type: strings.ToLower(string(d.FS)), SizeBytes: size, UsedBytes: size - free, AvailBytes: free})
	}
	return h, nil
}

func nonNeg(i psInt) int {
	if i < 0 {
		return 0
	}
	if i > 1<<53 {
		return 1 << 53
	}
	return int(i)
}
