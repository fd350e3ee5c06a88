package cpe

import (
	"errors"
	"testing"
)

func TestCompareVersions(t *testing.T) {
	// Each row: a < b, so also b > a, and both equal themselves.
	less := [][2]string{
		// dotted numeric (go-version's path)
		{"2.4.37", "2.4.38"},
		{"2.4.9", "2.4.10"},
		{"10.0.19045.3570", "10.0.19045.3571"},
		{"10.0.19044.9999", "10.0.19045.0"},
		{"1.1", "1.1.1"},
		{"116.0.5845.186", "116.0.5845.187"},
		{"9.8", "v10.0"},
		{"99999999999999999999", "100000000000000000000"}, // beyond uint64
		// OpenSSL letter releases come after the plain release
		{"1.1.1", "1.1.1a"},
		{"1.1.1a", "1.1.1t"},
		{"1.0.2m", "1.0.2zg"},
		{"1.0.2z", "1.0.2za"},
		{"1.1.1zz", "1.1.2"},
		{"1.0.2zh", "3.0.0"},
		// pre-releases come before the release
		{"2.0-beta9", "2.0"},
		{"2.0-beta9", "2.0-beta10"},
		{"2.0-beta9", "2.0-rc1"},
		{"2.0-alpha2", "2.0-beta1"},
		{"2.0-rc2", "2.0.1"},
		{"1.0a1", "1.0b1"},
		{"1.0rc1", "1.0"},
		{"1.0~rc1", "1.0"},
		{"3.0.0-dev", "3.0.0-alpha1"},
		// OpenSSH/sudo portable and patch levels come after
		{"9.8", "9.8p1"},
		{"9.7p1", "9.8"},
		{"1.9.5p1", "1.9.5p2"},
		{"1.8.31p2", "1.8.32"},
		// other shapes seen in NVD bounds
		{"12.6(1)", "12.6(2)"},
		{"2021.11_1.162", "2021.11_1.163"},
		{"3.1.000.044", "3.1.000.100"},
		{"2.4.38", "2.4.38-1"},
		{"8u292", "8u301"},
		{"24.07", "24.08"},
	}
	for _, p := range less {
		if c, err := CompareVersions(p[0], p[1]); err != nil || c != -1 {
			t.Errorf("%s vs %s: %d %v, want -1", p[0], p[1], c, err)
		}
		if c, err := CompareVersions(p[1], p[0]); err != nil || c != 1 {
			t.Errorf("%s vs %s: %d %v, want 1", p[1], p[0], c, err)
		}
	}
	equal := [][2]string{
		{"2.0", "2.0.0"}, {"v1.2", "1.2"}, {"1.02", "1.2"}, {"2.0-final", "2.0"}, {"1.1.1A", "1.1.1a"}, {"24.07", "24.07.00.0"},
	}
	for _, p := range equal {
		if c, err := CompareVersions(p[0], p[1]); err != nil || c != 0 {
			t.Errorf("%s vs %s: %d %v, want 0", p[0], p[1], c, err)
		}
	}
	for _, bad := range []string{"", "-", "*", "latest", "beta", "1.0 beta", "2.0/3", "v", "1.0\x00", string(make([]byte, 200))} {
		if _, err := CompareVersions(bad, "1.0"); !errors.Is(err, ErrUnparseable) {
			t.Errorf("%q: err %v, want ErrUnparseable", bad, err)
		}
		if _, err := CompareVersions("1.0", bad); !errors.Is(err, ErrUnparseable) {
			t.Errorf("%q second: err %v, want ErrUnparseable", bad, err)
		}
	}
}
