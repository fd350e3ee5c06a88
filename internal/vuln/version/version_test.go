package version

import (
	"errors"
	"testing"
)

type vector struct {
	a, b string
	want int
}

// rpmvercmpVectors is every active case of rpm's own test suite,
// tests/rpmvercmp.at (rpm-software-management/rpm at commit 7f3fdf6868d7),
// including the tilde and caret cases. rpm runs them through rpm.vercmp,
// which since rpm 4.17 parses each side as an EVR, as RPM.Compare does.
var rpmvercmpVectors = []vector{
	{"1.0", "1.0", 0},
	{"1.0", "2.0", -1},
	{"2.0", "1.0", 1},
	{"2.0.1", "2.0.1", 0},
	{"2.0", "2.0.1", -1},
	{"2.0.1", "2.0", 1},
	{"2.0.1a", "2.0.1a", 0},
	{"2.0.1a", "2.0.1", 1},
	{"2.0.1", "2.0.1a", -1},
	{"5.5p1", "5.5p1", 0},
	{"5.5p1", "5.5p2", -1},
	{"5.5p2", "5.5p1", 1},
	{"5.5p10", "5.5p10", 0},
	{"5.5p1", "5.5p10", -1},
	{"5.5p10", "5.5p1", 1},
	{"10xyz", "10.1xyz", -1},
	{"10.1xyz", "10xyz", 1},
	{"xyz10", "xyz10", 0},
	{"xyz10", "xyz10.1", -1},
	{"xyz10.1", "xyz10", 1},
	{"xyz.4", "xyz.4", 0},
	{"xyz.4", "8", -1},
	{"8", "xyz.4", 1},
	{"xyz.4", "2", -1},
	{"2", "xyz.4", 1},
	{"5.5p2", "5.6p1", -1},
	{"5.6p1", "5.5p2", 1},
	{"5.6p1", "6.5p1", -1},
	{"6.5p1", "5.6p1", 1},
	{"6.0.rc1", "6.0", 1},
	{"6.0", "6.0.rc1", -1},
	{"10b2", "10a1", 1},
	{"10a2", "10b2", -1},
	{"1.0aa", "1.0aa", 0},
	{"1.0a", "1.0aa", -1},
	{"1.0aa", "1.0a", 1},
	{"10.0001", "10.0001", 0},
	{"10.0001", "10.1", 0},
	{"10.1", "10.0001", 0},
	{"10.0001", "10.0039", -1},
	{"10.0039", "10.0001", 1},
	{"4.999.9", "5.0", -1},
	{"5.0", "4.999.9", 1},
	{"20101121", "20101121", 0},
	{"20101121", "20101122", -1},
	{"20101122", "20101121", 1},
	{"2_0", "2_0", 0},
	{"2.0", "2_0", 0},
	{"2_0", "2.0", 0},
	{"a", "a", 0},
	{"a+", "a+", 0},
	{"a+", "a_", 0},
	{"a_", "a+", 0},
	{"+a", "+a", 0},
	{"+a", "_a", 0},
	{"_a", "+a", 0},
	{"+_", "+_", 0},
	{"_+", "+_", 0},
	{"_+", "_+", 0},
	{"+", "_", 0},
	{"_", "+", 0},
	{"1.0~rc1", "1.0~rc1", 0},
	{"1.0~rc1", "1.0", -1},
	{"1.0", "1.0~rc1", 1},
	{"1.0~rc1", "1.0~rc2", -1},
	{"1.0~rc2", "1.0~rc1", 1},
	{"1.0~rc1~git123", "1.0~rc1~git123", 0},
	{"1.0~rc1~git123", "1.0~rc1", -1},
	{"1.0~rc1", "1.0~rc1~git123", 1},
	{"1.0^", "1.0^", 0},
	{"1.0^", "1.0", 1},
	{"1.0", "1.0^", -1},
	{"1.0^git1", "1.0^git1", 0},
	{"1.0^git1", "1.0", 1},
	{"1.0", "1.0^git1", -1},
	{"1.0^git1", "1.0^git2", -1},
	{"1.0^git2", "1.0^git1", 1},
	{"1.0^git1", "1.01", -1},
	{"1.01", "1.0^git1", 1},
	{"1.0^20160101", "1.0^20160101", 0},
	{"1.0^20160101", "1.0.1", -1},
	{"1.0.1", "1.0^20160101", 1},
	{"1.0^20160101^git1", "1.0^20160101^git1", 0},
	{"1.0^20160102", "1.0^20160101^git1", 1},
	{"1.0^20160101^git1", "1.0^20160102", -1},
	{"1.0~rc1^git1", "1.0~rc1^git1", 0},
	{"1.0~rc1^git1", "1.0~rc1", 1},
	{"1.0~rc1", "1.0~rc1^git1", -1},
	{"1.0^git1~pre", "1.0^git1~pre", 0},
	{"1.0^git1", "1.0^git1~pre", 1},
	{"1.0^git1~pre", "1.0^git1", -1},
}

// rpmEVRVectors exercise epoch and release handling with versions from the
// AlmaLinux 9 advisories in ../osv/testdata.
var rpmEVRVectors = []vector{
	{"1:1.0-1", "2.0-1", 1},               // epoch beats version
	{"0:1.0-1", "1.0-1", 0},               // a missing epoch is 0
	{"1:3.0.7-27.el9", "3.0.7-28.el9", 1}, // ... so an epoch-less newer build is older
	{"1:3.0.7-26.el9", "1:3.0.7-27.el9", -1},
	{"2.28-42.el8", "2.28-42.el8.1", -1},
	{"128.4.0-1.el9_4", "128.4.0-1.el9_4.alma.1", -1}, // AlmaLinux rebuild suffix
	{"128.4.0-1.el9_4.alma.1", "128.4.0-1.el9_5", -1},
	{"8.7p1-38.el9_4", "8.7p1-38.el9_4.1", -1},
	{"1.9.5p2-10.el9_3", "1.9.5p2-10.el9_6.1", -1},
	{"2.34-100.el9_4.2", "2.34-100.el9_4.10", -1}, // numeric, not lexical
	{"1:21.0.4.0.7-1.el8.alma.1", "1:21.0.4.0.7-1.el8", 1},
	{"1.0", "1.0-1", -1}, // a missing release sorts first (see RPM)
	{"1.0~rc1-1", "1.0-1", -1},
	{"1.0^git1-1", "1.0-1", 1},
	{"1.0^git1-1", "1.0.1-1", -1},
}

// debVectors cover dpkg's rules; TestDebAgainstDpkg also checks each of them
// with the machine's dpkg. The ~ chain is the example of deb-version(7).
var debVectors = []vector{
	{"1.0", "1.0", 0},
	{"1.0", "1.00", 0},
	{"1.0", "1.0-0", 0}, // an absent revision equals "0"
	{"0:1.0", "1.0", 0}, // an absent epoch is 0
	{"1:0.1", "2.0", 1}, // epoch first
	{"1:2.0", "2:1.0", -1},
	{"1.0~rc1", "1.0", -1},  // tilde sorts before the end
	{"1.0~~", "1.0~~a", -1}, // deb-version(7): ~~ < ~~a < ~ < "" < a
	{"1.0~~a", "1.0~", -1},
	{"1.0~", "1.0", -1},
	{"1.0", "1.0a", -1},
	{"1.0a", "1.0+", -1}, // letters sort before non-letters
	{"1.0+", "1.0.", -1},
	{"1.0.0~beta1~pre1", "1.0.0~beta1", -1},
	{"1.0-1", "1.0-1ubuntu1", -1},
	{"2.30-1+deb12u1", "2.30-2", -1},
	{"2.36-9+deb12u3", "2.36-9+deb12u2", 1},
	{"2.36-9+deb12u10", "2.36-9+deb12u9", 1}, // numeric, not lexical
	{"3.0.11-1~deb12u2", "3.0.11-1", -1},     // backports sort below the release
	{"5.10.0-28", "5.10.0-28+b1", -1},        // binNMU
	{"1.0+dfsg-1", "1.0-1", 1},
	{"7.4.052-1ubuntu3", "7.4.052-1ubuntu3.1", -1},
	{"1:1.2.13.dfsg-1", "1:1.2.13.dfsg-1+deb12u1", -1},
	{"2.1-1-1", "2.1-1-2", -1}, // the revision starts after the last hyphen
	{"1:9.18.28-1~deb12u2", "1:9.18.19-1~deb12u1", 1},
	{"1.2.1-2.2+wheezy3", "1.2.1-2.2+wheezy2", 1},
	{"3.13.0-206.257", "3.13.0-100.147", 1},
}

// apkVectors come from apk-tools' test/version.data (as shipped with
// go-apk-version) plus the suffix order apk-tools documents.
var apkVectors = []vector{
	{"1.0_alpha", "1.0_beta", -1},
	{"1.0_beta", "1.0_pre", -1},
	{"1.0_pre", "1.0_rc", -1},
	{"1.0_rc", "1.0", -1},
	{"1.0", "1.0_p1", -1},
	{"1.0", "1.0_cvs", -1},
	{"1.0_cvs", "1.0_svn", -1},
	{"1.0_svn", "1.0_git", -1},
	{"1.0_git", "1.0_hg", -1},
	{"1.0_hg", "1.0_p", -1},
	{"1.1", "1.1_alpha1", 1},
	{"1.3_alpha", "1.3_alpha2", -1},
	{"0.8_beta1", "0.8_beta2", -1},
	{"3.1_p16", "3.1_p17", -1},
	{"4.3_p2-r1", "4.3_p2-r5", -1},
	{"5.52-r1", "1.2.5_rc2", 1},
	{"3.9_pre20060124", "0.01", 1},
	{"1.0.4-r3", "1.0.4-r4", -1},
	{"1.0-r9", "1.0-r10", -1},
	{"2.6.1.3", "2.6.1.3-r1", -1},
	{"22.7.3-r1", "22.7", 1},
	{"5.1.1-r2", "5.1.1", 1},
	{"9.3.4-r2", "9.3.4", 1},
	{"2.31-r1", "2.31", 1},
	{"1.2.2-r1", "1.2.2", 1},
	{"2.16.1-r3", "2.16.1-r3", 0},
	{"1.0.1", "1.0.1", 0},
	{"2.3.0b-r1", "2.3.0b-r2", -1}, // letters
	{"2.3.0b-r4", "0.12.1", 1},
	{"5b-r9", "2.2.10", 1},
	{"0.59s-r11", "0.65", -1},
	{"006", "1.0.0", 1}, // leading zeros: still a number
	{"1.06-r6", "006", -1},
	{"014-r1", "1.3.1-r1", 1},
	{"7.0.17", "7.0.174", -1},
	{"0.9.28-r2", "0.9.28.1", -1},
	{"2.6.16.20060323", "2.6.19.20061214", -1},
	{"1.36.1-r0", "1.36.1-r2", -1},
	{"3.1.4-r5", "3.1.4-r10", -1},
	// Where current apk-tools and go-apk-version part ways (see apk.go).
	{"1.0_rc1", "1.0", -1},
	{"3.0.0_rc2-r0", "3.0.0-r0", -1},
	{"2.0_beta", "2.0_beta1", -1},
	// Zero-led components compare as strings; ~hash is valid.
	{"1.01", "1.1", -1},
	{"1.001", "1.01", -1},
	{"1.0~abc123", "1.0~abc124", -1},
	{"1.0~abc123-r1", "1.0~abc123-r2", -1},
	{"1.0~abc123", "1.0-r0", 1}, // token kind decides: a hash ranks below a revision
	{"8.2.0015", "8.2.002", -1}, // string order, not 15 > 2
}

func checkVectors(t *testing.T, c Comparer, vectors []vector) {
	t.Helper()
	for _, v := range vectors {
		got, err := c.Compare(v.a, v.b)
		if err != nil {
			t.Errorf("Compare(%q, %q): %v", v.a, v.b, err)
			continue
		}
		if got != v.want {
			t.Errorf("Compare(%q, %q) = %d, want %d", v.a, v.b, got, v.want)
		}
		// Every vector holds the other way round too.
		if back, err := c.Compare(v.b, v.a); err != nil || back != -v.want {
			t.Errorf("Compare(%q, %q) = %d, %v; want %d", v.b, v.a, back, err, -v.want)
		}
	}
}

func TestRPMVectors(t *testing.T) {
	if len(rpmvercmpVectors) < 40 {
		t.Fatalf("only %d rpmvercmp vectors", len(rpmvercmpVectors))
	}
	checkVectors(t, RPM{}, rpmvercmpVectors)
	checkVectors(t, RPM{}, rpmEVRVectors)
}

func TestDebVectors(t *testing.T) { checkVectors(t, Deb{}, debVectors) }

func TestAPKVectors(t *testing.T) { checkVectors(t, APK{}, apkVectors) }

func TestInvalid(t *testing.T) {
	tests := []struct {
		c       Comparer
		version string
	}{
		{Deb{}, ""},
		{Deb{}, " 1.0"},
		{Deb{}, "1.0 beta"},
		{Deb{}, "a1.0"},   // must start with a digit
		{Deb{}, "1.0-"},   // empty revision
		{Deb{}, ":1.0"},   // empty epoch
		{Deb{}, "x:1.0"},  // epoch not a number
		{Deb{}, "+1:1.0"}, // strconv would take it; dpkg would not
		{Deb{}, "1:"},     // nothing after the epoch
		{Deb{}, "1.0@1"},  // invalid character
		{Deb{}, "1.0-1@"}, // invalid character in the revision
		{Deb{}, "1.0\u00e9"},
		{Deb{}, "99999999999:1.0"},
		{Deb{}, "1.1234567890123456789"},
		{RPM{}, ""},
		{RPM{}, "1.0-1-2"},
		{RPM{}, "a:1.0-1"},
		{RPM{}, ":1.0-1"},
		{RPM{}, "1:2:3"},
		{RPM{}, "1.0-"},
		{RPM{}, "-1"},
		{RPM{}, "1.0 -1"},
		{RPM{}, "1.0-1\n"},
		{APK{}, ""},
		{APK{}, "1.0bc"},
		{APK{}, "1.0!"},
		{APK{}, "1.0-"},
		{APK{}, "1.0 "},
		{APK{}, "1.0_foo"},
		{APK{}, "1.0-x1"}, // the revision must be -rN
		{APK{}, "1.0~"},
		{APK{}, "1.0~xyz"},
		{APK{}, "a1.0"},
		{APK{}, "1.0-r1_p1"},
		{APK{}, "1.12345678901234567890"},
	}
	for _, tt := range tests {
		for _, pair := range [][2]string{{tt.version, "1.0"}, {"1.0", tt.version}} {
			_, err := tt.c.Compare(pair[0], pair[1])
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("%T.Compare(%q, %q) error = %v, want ErrInvalid", tt.c, pair[0], pair[1], err)
			}
			var ie *InvalidError
			if errors.As(err, &ie) && ie.Version != tt.version {
				t.Errorf("%T: InvalidError names %q, want %q", tt.c, ie.Version, tt.version)
			}
		}
	}
}

func TestFor(t *testing.T) {
	for eco, want := range map[string]Comparer{"deb": Deb{}, "rpm": RPM{}, "apk": APK{}} {
		got, err := For(eco)
		if err != nil || got != want {
			t.Errorf("For(%q) = %T, %v; want %T", eco, got, err, want)
		}
	}
	for _, eco := range []string{"", "Debian", "pacman"} {
		if c, err := For(eco); err == nil {
			t.Errorf("For(%q) = %T, want an error", eco, c)
		}
	}
}
