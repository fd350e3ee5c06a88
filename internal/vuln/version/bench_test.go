package version

import (
	"strings"
	"testing"
)

// BenchmarkCompare measures one comparison of two realistic versions per
// ecosystem, parsing included: that is what advisory matching pays per
// (package, event) pair.
func BenchmarkCompare(b *testing.B) {
	cases := []struct {
		name string
		c    Comparer
		x, y string
	}{
		{"deb", Deb{}, "2.36-9+deb12u3", "2.36-9+deb12u10"},
		{"deb-epoch-tilde", Deb{}, "1:9.18.28-1~deb12u2", "1:9.18.19-1~deb12u1"},
		{"rpm", RPM{}, "128.4.0-1.el9_4", "128.4.0-1.el9_4.alma.1"},
		{"rpm-epoch", RPM{}, "1:3.0.7-27.el9", "1:3.0.7-28.el9_4"},
		{"apk", APK{}, "1.36.1-r2", "1.36.1-r15"},
		{"apk-suffix", APK{}, "2.9.11_pre20061021-r2", "2.9.11-r0"},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := tc.c.Compare(tc.x, tc.y); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzCompare checks that no input makes a comparer panic, and that valid
// inputs are ordered consistently: reflexive and antisymmetric.
func FuzzCompare(f *testing.F) {
	for _, v := range debVectors {
		f.Add(v.a, v.b)
	}
	for _, v := range rpmvercmpVectors {
		f.Add(v.a, v.b)
	}
	for _, v := range apkVectors {
		f.Add(v.a, v.b)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		for _, c := range []Comparer{Deb{}, RPM{}, APK{}} {
			ab, errA := c.Compare(a, b)
			ba, errB := c.Compare(b, a)
			if (errA == nil) != (errB == nil) {
				t.Fatalf("%T: error depends on argument order: %v / %v", c, errA, errB)
			}
			if errA != nil {
				continue
			}
			if ab != -ba {
				t.Fatalf("%T: Compare(%q, %q) = %d but Compare(%q, %q) = %d", c, a, b, ab, b, a, ba)
			}
			if aa, err := c.Compare(a, a); err != nil || aa != 0 {
				t.Fatalf("%T: Compare(%q, %q) = %d, %v", c, a, a, aa, err)
			}
			if strings.TrimSpace(a) != a {
				t.Fatalf("%T accepted %q with surrounding space", c, a)
			}
		}
	})
}
