package collect

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

func TestParseHostname(t *testing.T) {
	for in, want := range map[string]string{"web-1\n": "web-1", "  db.example.org\r\n": "db.example.org"} {
		if got, err := ParseHostname([]byte(in)); err != nil || got != want {
			t.Errorf("ParseHostname(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "\n", "two words\n", "a\nb\n"} {
		if _, err := ParseHostname([]byte(in)); err == nil {
			t.Errorf("ParseHostname(%q): no error", in)
		}
	}
}

// The kernel inputs are constructed from the fields of jc's real uname -a
// samples (testdata reference: jc/*/uname-a.out), laid out as the probe's
// four commands print them.
func TestParseKernel(t *testing.T) {
	tests := []struct {
		in   string
		want inventory.Kernel
	}{
		{"Linux\n3.10.0-1062.1.2.el7.x86_64\nx86_64\n#1 SMP Mon Sep 30 14:19:46 UTC 2019\n",
			inventory.Kernel{Name: "Linux", Release: "3.10.0-1062.1.2.el7.x86_64", Machine: "x86_64", Version: "#1 SMP Mon Sep 30 14:19:46 UTC 2019"}},
		{"Linux\r\n4.15.0-65-generic\r\nx86_64\r\n#74-Ubuntu SMP Tue Sep 17 17:06:04 UTC 2019\r\n",
			inventory.Kernel{Name: "Linux", Release: "4.15.0-65-generic", Machine: "x86_64", Version: "#74-Ubuntu SMP Tue Sep 17 17:06:04 UTC 2019"}},
		{"Linux\n6.1.0\naarch64\n", inventory.Kernel{Name: "Linux", Release: "6.1.0", Machine: "aarch64"}},
	}
	for _, tt := range tests {
		got, err := ParseKernel([]byte(tt.in))
		if err != nil || got != tt.want {
			t.Errorf("ParseKernel(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "Linux\n", "Linux kbrazil-ubuntu 4.15.0-65-generic #74-Ubuntu SMP x86_64 GNU/Linux\n", "Linux\n\nx86_64\n#1\n", "a\nb\nc\nd\ne\n"} {
		if _, err := ParseKernel([]byte(in)); err == nil || !strings.HasPrefix(err.Error(), "parse kernel: ") {
			t.Errorf("ParseKernel(%q): err = %v", in, err)
		}
	}
}

func TestParseUptime(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 500_000_000, time.FixedZone("CEST", 2*3600))
	got, err := ParseUptime(fixture(t, "jc/linux-proc/uptime"), now)
	if err != nil {
		t.Fatal(err)
	}
	// 46901.13 s before 10:00:00.5 UTC is 20:58:19.37 the previous day.
	want := time.Date(2024, 4, 30, 20, 58, 19, 0, time.UTC)
	if got.Seconds != 46901.13 || !got.BootTime.Equal(want) || got.BootTime.Location() != time.UTC {
		t.Errorf("ParseUptime = %+v, want 46901.13 s, boot %v", got, want)
	}
	for _, in := range []string{"", "abc 1", "-5 3", "NaN 1", "1e300 1"} {
		if _, err := ParseUptime([]byte(in), now); err == nil {
			t.Errorf("ParseUptime(%q): no error", in)
		}
	}
}

func TestParseCPUInfo(t *testing.T) {
	tests := []struct {
		fixture string
		want    inventory.CPU
	}{
		{"jc/linux-proc/cpuinfo", inventory.CPU{Model: "Intel(R) Core(TM) i5-7360U CPU @ 2.30GHz", Sockets: 1, Cores: 1, Threads: 1}},
		// Two sockets (physical id 0 and 2), one core each.
		{"jc/linux-proc/cpuinfo2", inventory.CPU{Model: "Intel(R) Core(TM) i5-8279U CPU @ 2.40GHz", Sockets: 2, Cores: 2, Threads: 2}},
		{"facter/cpuinfo", inventory.CPU{Model: "Intel(R) Xeon(R) CPU E5-2697 v4 @ 2.30GHz", Sockets: 1, Cores: 4, Threads: 4}},
		{"facter/cpuinfo_wo_physical_id", inventory.CPU{Model: "Intel(R) Xeon(R) CPU E5-2697 v4 @ 2.30GHz", Sockets: 1, Cores: 4, Threads: 4}},
		{"ohai/cpuinfo-dual-core-hyperthreaded.output", inventory.CPU{Model: "Intel(R) Core(TM) i7-4500U CPU @ 1.80GHz", Sockets: 1, Cores: 2, Threads: 4}},
		{"ohai/cpuinfo-x86-guest-kvm.output", inventory.CPU{Model: "QEMU Virtual CPU version 2.5+", Sockets: 4, Cores: 4, Threads: 4}},
		// No "cpu cores" line: cores fall back to threads.
		{"ohai/cpuinfo-no-cores.output", inventory.CPU{Model: "Intel(R) Core(TM)2 Duo CPU     T8300   @ 2.40GHz", Sockets: 1, Cores: 1, Threads: 1}},
		{"node_exporter/proc/cpuinfo", inventory.CPU{Model: "Intel(R) Core(TM) i7-8650U CPU @ 1.90GHz", Sockets: 1, Cores: 4, Threads: 8}},
		{"gopsutil/cpu-1958/proc/cpuinfo", inventory.CPU{Model: "Hygon C86-4G (OPN:5435)", Sockets: 1, Cores: 16, Threads: 1}},
		// 32-bit ARM big.LITTLE: the first model name wins.
		{"gopsutil/cpu-1037/proc/cpuinfo", inventory.CPU{Model: "ARMv7 Processor rev 4 (v7l)", Sockets: 1, Cores: 8, Threads: 8}},
		// aarch64 with no model name: implementer and part.
		{"ohai/cpuinfo-aarch64-graviton2.output", inventory.CPU{Model: "ARM Neoverse-N1", Sockets: 1, Cores: 2, Threads: 2}},
		{"ohai/cpuinfo-aarch64.output", inventory.CPU{Model: "APM part 0x000", Sockets: 1, Cores: 2, Threads: 2}},
		{"facter/cpuinfo_arm64", inventory.CPU{Model: "Cavium part 0x0a1", Sockets: 1, Cores: 2, Threads: 2}},
		// ppc64: "cpu" names the model; lower-case "model" is the machine.
		{"ohai/cpuinfo-ppc64le-p9-host.output", inventory.CPU{Model: "POWER9, altivec supported", Sockets: 1, Cores: 2, Threads: 2}},
		{"ohai/cpuinfo-ppc64le-p8-host.output", inventory.CPU{Model: "POWER8E (raw), altivec supported", Sockets: 1, Cores: 20, Threads: 20}},
		{"facter/cpuinfo_powerpc", inventory.CPU{Model: "POWER8 (raw), altivec supported", Sockets: 1, Cores: 4, Threads: 4}},
		// s390x: a "# processors" total and per-CPU machine lines.
		{"ohai/cpuinfo-s390x.output", inventory.CPU{Model: "IBM/S390 machine 8561", Sockets: 1, Cores: 4, Threads: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			got, err := ParseCPUInfo(fixture(t, tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("ParseCPUInfo = %+v, want %+v", got, tt.want)
			}
		})
	}
	for _, in := range []string{"", "\n\n", "no colon anywhere\n"} {
		if _, err := ParseCPUInfo([]byte(in)); err == nil {
			t.Errorf("ParseCPUInfo(%q): no error", in)
		}
	}
}

func TestParseMeminfo(t *testing.T) {
	tests := []struct {
		fixture string
		want    inventory.Memory
	}{
		{"jc/linux-proc/meminfo", inventory.Memory{TotalBytes: 3997272 * 1024, AvailableBytes: 3386876 * 1024, SwapTotalBytes: 3996668 * 1024}},
		{"facter/meminfo", inventory.Memory{TotalBytes: 4133560320, AvailableBytes: 3747147776, SwapTotalBytes: 2147479552}},
		{"facter/rhel5_memory", inventory.Memory{TotalBytes: 4133560320, AvailableBytes: 3747147776, SwapTotalBytes: 2147479552}},
		{"gopsutil/mem-intelcorei5/proc/meminfo", inventory.Memory{TotalBytes: 16502300672, AvailableBytes: 11495358464, SwapTotalBytes: 8258580480}},
		{"gopsutil/mem-issue1002/proc/meminfo", inventory.Memory{TotalBytes: 260579328, AvailableBytes: 215199744}},
		// No MemAvailable: MemFree + Buffers + Cached.
		{"facter/meminfo_missing_available", inventory.Memory{TotalBytes: 4133560320, AvailableBytes: (3547792 + 4288 + 298624) * 1024, SwapTotalBytes: 2147479552}},
		{"node_exporter/proc/meminfo", inventory.Memory{TotalBytes: 3831959552, AvailableBytes: (225472 + 22040 + 930888) * 1024, SwapTotalBytes: 4294963200}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			got, err := ParseMeminfo(fixture(t, tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("ParseMeminfo = %+v, want %+v", got, tt.want)
			}
		})
	}
	for _, in := range []string{"", "MemFree: 10 kB\n", "MemTotal: lots kB\n", "MemTotal: 10 MB\n", "MemTotal: 99999999999999999999 kB\n", "MemTotal: 18014398509481984 kB\n"} {
		if _, err := ParseMeminfo([]byte(in)); err == nil || !strings.HasPrefix(err.Error(), "parse meminfo: ") {
			t.Errorf("ParseMeminfo(%q): err = %v", in, err)
		}
	}
}
