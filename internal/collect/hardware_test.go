package collect

import (
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/inventory"
)

// dmidecodeAsSysfs translates dmidecode output into what the hardware
// probe prints for the same machine: the fields sysfs exposes under
// /sys/class/dmi/id, with dmidecode's "Not Specified" for an empty string
// turned back into nothing and the UUID in sysfs's lower case. root says
// whether the 0400 serial and UUID files are readable.
func dmidecodeAsSysfs(t *testing.T, dmidecode []byte, root bool, extra string) []byte {
	t.Helper()
	fields := map[string]string{
		"BIOS Information/Vendor":             "bios_vendor",
		"BIOS Information/Version":            "bios_version",
		"System Information/Manufacturer":     "sys_vendor",
		"System Information/Product Name":     "product_name",
		"System Information/Version":          "product_version",
		"System Information/Serial Number":    "product_serial",
		"System Information/UUID":             "product_uuid",
		"Chassis Information/Manufacturer":    "chassis_vendor",
		"Chassis Information/Asset Tag":       "chassis_asset_tag",
		"Base Board Information/Manufacturer": "board_vendor",
	}
	kv := map[string]string{}
	var section string
	for _, line := range strings.Split(string(dmidecode), "\n") {
		if line != "" && line[0] != '\t' && !strings.HasPrefix(line, "Handle ") {
			section = line
			continue
		}
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "\t"), ": ")
		if key, known := fields[section+"/"+k]; ok && known && kv[key] == "" {
			if v == "Not Specified" {
				v = ""
			}
			kv[key] = v
		}
	}
	kv["product_uuid"] = strings.ToLower(kv["product_uuid"])
	if !root {
		kv["product_serial"], kv["product_uuid"] = "", ""
	}
	var b strings.Builder
	for _, k := range dmiKeys {
		b.WriteString(k + "=" + kv[k] + "\n")
	}
	b.WriteString(extra)
	return []byte(b.String())
}

// sysfsOutput builds the probe's output from DMI fields and the three
// trailing lines, as a constructed case.
func sysfsOutput(dmi map[string]string, virt, cpuFlag, hvType string) []byte {
	var b strings.Builder
	for _, k := range dmiKeys {
		b.WriteString(k + "=" + dmi[k] + "\n")
	}
	b.WriteString("virt=" + virt + "\ncpu_hypervisor=" + cpuFlag + "\nhypervisor_type=" + hvType + "\n")
	return []byte(b.String())
}

func TestParseHardware(t *testing.T) {
	const noVirt = "virt=\ncpu_hypervisor=\nhypervisor_type=\n"
	azureTag := azureAssetTag
	tests := []struct {
		name string
		in   []byte
		want inventory.Hardware
	}{
		{
			// Real: a Docker container on a VM; /sys/class/dmi is absent.
			name: "debian12 recording",
			in:   recording(t, "hardware"),
			want: inventory.Hardware{Virtualization: "docker"},
		},
		{
			// Constructed from real: facter's VirtualBox dmidecode sample
			// (serial "0" is VirtualBox's placeholder). Without
			// systemd-detect-virt, DMI names the hypervisor.
			name: "facter virtualbox as root",
			in:   dmidecodeAsSysfs(t, fixture(t, "facter/dmi_decode_virtualbox"), true, noVirt),
			want: inventory.Hardware{Vendor: "innotek GmbH", Product: "VirtualBox", UUID: "784198ec-5827-476e-9e24-b0e98e8958f5",
				BIOSVersion: "VirtualBox", Virtualization: "oracle", Cloud: "on-prem"},
		},
		{
			name: "facter vmware as root",
			in:   dmidecodeAsSysfs(t, fixture(t, "facter/dmi_decode_vmware"), true, "virt=vmware\ncpu_hypervisor=hypervisor\nhypervisor_type=\n"),
			want: inventory.Hardware{Vendor: "VMware, Inc.", Product: "VMware Virtual Platform",
				Serial: "VMware-42 1a ee 9a 8e 13 ee e5-fc ec 82 3d cd 74 76 94", UUID: "9aee1a42-138e-e5ee-fcec-823dcd747694",
				BIOSVersion: "6.00", Virtualization: "vmware", Cloud: "on-prem"},
		},
		{
			name: "facter vmware without root",
			in:   dmidecodeAsSysfs(t, fixture(t, "facter/dmi_decode_vmware"), false, noVirt),
			want: inventory.Hardware{Vendor: "VMware, Inc.", Product: "VMware Virtual Platform", BIOSVersion: "6.00", Virtualization: "vmware", Cloud: "on-prem"},
		},
		// The rest are constructed from the DMI strings these platforms
		// are documented to carry.
		{
			name: "constructed aws nitro",
			in: sysfsOutput(map[string]string{"sys_vendor": "Amazon EC2", "product_name": "m5.large", "bios_vendor": "Amazon EC2",
				"bios_version": "1.0", "board_vendor": "Amazon EC2", "chassis_vendor": "Amazon EC2", "chassis_asset_tag": "Amazon EC2"}, "amazon", "hypervisor", ""),
			want: inventory.Hardware{Vendor: "Amazon EC2", Product: "m5.large", BIOSVersion: "1.0", Virtualization: "amazon", Cloud: "aws"},
		},
		{
			name: "constructed aws xen without systemd",
			in: sysfsOutput(map[string]string{"sys_vendor": "Xen", "product_name": "HVM domU", "product_version": "4.2.amazon", "bios_vendor": "Xen",
				"bios_version": "4.2.amazon", "product_uuid": "EC2E1916-9099-7CAF-FD21-012345ABCDEF"}, "", "hypervisor", "xen"),
			want: inventory.Hardware{Vendor: "Xen", Product: "HVM domU", UUID: "ec2e1916-9099-7caf-fd21-012345abcdef",
				BIOSVersion: "4.2.amazon", Virtualization: "xen", Cloud: "aws"},
		},
		{
			name: "constructed azure",
			in: sysfsOutput(map[string]string{"sys_vendor": "Microsoft Corporation", "product_name": "Virtual Machine", "bios_vendor": "Microsoft Corporation",
				"bios_version": "Hyper-V UEFI Release v4.1", "chassis_vendor": "Microsoft Corporation", "chassis_asset_tag": azureTag,
				"board_vendor": "Microsoft Corporation"}, "microsoft", "hypervisor", ""),
			want: inventory.Hardware{Vendor: "Microsoft Corporation", Product: "Virtual Machine", BIOSVersion: "Hyper-V UEFI Release v4.1",
				Virtualization: "microsoft", Cloud: "azure"},
		},
		{
			name: "constructed hyper-v on premises",
			in: sysfsOutput(map[string]string{"sys_vendor": "Microsoft Corporation", "product_name": "Virtual Machine",
				"bios_version": "Hyper-V UEFI Release v4.1", "chassis_asset_tag": "1234-5678"}, "", "", ""),
			want: inventory.Hardware{Vendor: "Microsoft Corporation", Product: "Virtual Machine", BIOSVersion: "Hyper-V UEFI Release v4.1",
				Virtualization: "microsoft", Cloud: "on-prem"},
		},
		{
			name: "constructed gcp",
			in: sysfsOutput(map[string]string{"sys_vendor": "Google", "product_name": "Google Compute Engine", "bios_vendor": "Google",
				"bios_version": "Google", "board_vendor": "Google", "chassis_vendor": "Google"}, "kvm", "hypervisor", ""),
			want: inventory.Hardware{Vendor: "Google", Product: "Google Compute Engine", BIOSVersion: "Google", Virtualization: "kvm", Cloud: "gcp"},
		},
		{
			name: "constructed hetzner",
			in:   sysfsOutput(map[string]string{"sys_vendor": "Hetzner", "product_name": "vServer", "bios_vendor": "Hetzner", "bios_version": "20171111"}, "kvm", "hypervisor", ""),
			want: inventory.Hardware{Vendor: "Hetzner", Product: "vServer", BIOSVersion: "20171111", Virtualization: "kvm", Cloud: "other"},
		},
		{
			name: "constructed openstack",
			in:   sysfsOutput(map[string]string{"sys_vendor": "OpenStack Foundation", "product_name": "OpenStack Nova", "bios_vendor": "SeaBIOS"}, "kvm", "hypervisor", ""),
			want: inventory.Hardware{Vendor: "OpenStack Foundation", Product: "OpenStack Nova", Virtualization: "kvm", Cloud: "other"},
		},
		{
			name: "constructed oracle cloud",
			in: sysfsOutput(map[string]string{"sys_vendor": "QEMU", "product_name": "Standard PC (i440FX + PIIX, 1996)",
				"chassis_asset_tag": "OracleCloud.com"}, "", "hypervisor", ""),
			want: inventory.Hardware{Vendor: "QEMU", Product: "Standard PC (i440FX + PIIX, 1996)", Virtualization: "qemu", Cloud: "other"},
		},
		{
			// Placeholders from the board vendor are dropped; bare metal
			// says none even without systemd-detect-virt.
			name: "constructed bare metal",
			in: sysfsOutput(map[string]string{"sys_vendor": "Dell Inc.", "product_name": "PowerEdge R640", "bios_vendor": "Dell Inc.",
				"bios_version": "2.17.1", "product_serial": "To Be Filled By O.E.M.", "chassis_asset_tag": "Not Specified"}, "", "", ""),
			want: inventory.Hardware{Vendor: "Dell Inc.", Product: "PowerEdge R640", BIOSVersion: "2.17.1", Virtualization: "none", Cloud: "on-prem"},
		},
		{
			name: "constructed bare metal with systemd",
			in:   sysfsOutput(map[string]string{"sys_vendor": "Supermicro", "product_name": "SYS-1029P-WTR"}, "none", "", ""),
			want: inventory.Hardware{Vendor: "Supermicro", Product: "SYS-1029P-WTR", Virtualization: "none", Cloud: "on-prem"},
		},
		{
			// No DMI (ARM board), a hypervisor flag, no systemd.
			name: "constructed unknown vm",
			in:   sysfsOutput(nil, "", "hypervisor", ""),
			want: inventory.Hardware{Virtualization: "vm (unknown hypervisor)"},
		},
		{
			name: "constructed nothing readable",
			in:   sysfsOutput(nil, "", "", ""),
			want: inventory.Hardware{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHardware(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("ParseHardware =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
	for _, in := range []string{"", "\n", "Vendor: Dell\n", "unknown_key=x\n"} {
		if _, err := ParseHardware([]byte(in)); err == nil || !strings.HasPrefix(err.Error(), "parse hardware: ") {
			t.Errorf("ParseHardware(%q): err = %v", in, err)
		}
	}
}
