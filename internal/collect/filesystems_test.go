package collect

import (
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/inventory"
)

func TestParseDF(t *testing.T) {
	const k = 1024
	tests := []struct {
		name string
		in   []byte
		want []inventory.Filesystem
	}{
		{
			// devtmpfs and the tmpfs mounts are left out.
			name: "debian12 df -P -k -T",
			in:   recording(t, "filesystems"),
			want: []inventory.Filesystem{{Device: "/dev/vda", Mountpoint: "/", Type: "ext4", SizeBytes: 264212084 * k, UsedBytes: 17513116 * k, AvailBytes: 77988148 * k}},
		},
		{
			// jc's plain df output: no type column, so pseudo file
			// systems are known by device name.
			name: "jc centos-7.7 df",
			in:   fixture(t, "jc/centos-7.7/df.out"),
			want: []inventory.Filesystem{
				{Device: "/dev/mapper/centos-root", Mountpoint: "/", SizeBytes: 17811456 * k, UsedBytes: 1805580 * k, AvailBytes: 16005876 * k},
				{Device: "/dev/sda1", Mountpoint: "/boot", SizeBytes: 1038336 * k, UsedBytes: 237600 * k, AvailBytes: 800736 * k},
			},
		},
		{
			// Ubuntu with udev and a dozen snaps on loop devices.
			name: "jc ubuntu-18.04 df",
			in:   fixture(t, "jc/ubuntu-18.04/df.out"),
			want: []inventory.Filesystem{{Device: "/dev/sda2", Mountpoint: "/", SizeBytes: 20508240 * k, UsedBytes: 5748028 * k, AvailBytes: 13695408 * k}},
		},
		{
			// Constructed: df -P -k -T failed on a stale mount after
			// printing, so the plain table follows; the typed one wins. A
			// mount point with spaces, an overlay root, a squashfs snap, a
			// file system with no block counts.
			name: "constructed two tables",
			in: []byte("Filesystem     Type     1024-blocks    Used Available Capacity Mounted on\n" +
				"overlay        overlay     61255492 9170916  48943248      16% /\n" +
				"/dev/sdb1      vfat          523248    6220    517028       2% /media/USB  STICK\n" +
				"/dev/loop3     squashfs       68096   68096         0     100% /snap/core/7917\n" +
				"nas:/export    nfs4               -       -         -        - /mnt/nas\n" +
				"Filesystem     1024-blocks    Used Available Capacity Mounted on\n" +
				"overlay           61255492 9170916  48943248      16% /\n" +
				"/dev/sdc1           100000       1     99999       1% /mnt/only-untyped\n"),
			want: []inventory.Filesystem{
				{Device: "overlay", Mountpoint: "/", Type: "overlay", SizeBytes: 61255492 * k, UsedBytes: 9170916 * k, AvailBytes: 48943248 * k},
				{Device: "/dev/sdb1", Mountpoint: "/media/USB  STICK", Type: "vfat", SizeBytes: 523248 * k, UsedBytes: 6220 * k, AvailBytes: 517028 * k},
				{Device: "nas:/export", Mountpoint: "/mnt/nas", Type: "nfs4"},
			},
		},
		{
			// Constructed: BusyBox df -P -k without -T.
			name: "constructed busybox",
			in: []byte("Filesystem           1024-blocks    Used Available Capacity Mounted on\n" +
				"/dev/root              8191416 1342340   6413648  17% /\n" +
				"devtmpfs                 10240       0     10240   0% /dev\n" +
				"shm                     506008       0    506008   0% /dev/shm\n"),
			want: []inventory.Filesystem{{Device: "/dev/root", Mountpoint: "/", SizeBytes: 8191416 * k, UsedBytes: 1342340 * k, AvailBytes: 6413648 * k}},
		},
		{
			// Constructed: only pseudo file systems (a container).
			name: "constructed empty",
			in:   []byte("Filesystem     Type  1024-blocks  Used Available Capacity Mounted on\ntmpfs          tmpfs       65536     0     65536       0% /dev\n"),
			want: []inventory.Filesystem{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDF(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseDF =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
	for _, in := range []string{"", "df: invalid option -- 'T'\n", "/dev/sda1 100 1 99 1% /\n"} {
		if _, err := ParseDF([]byte(in)); err == nil || !strings.HasPrefix(err.Error(), "parse df: ") {
			t.Errorf("ParseDF(%q): err = %v", in, err)
		}
	}
}
