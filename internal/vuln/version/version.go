// Package version orders package versions the way each distribution's own
// package manager does: dpkg for deb, rpm's rpmvercmp for rpm and apk-tools
// for apk. Advisory matching is only as good as this ordering, so the actual
// comparison is delegated to the knqyf263 libraries that Trivy and Vuls have
// exercised against real distribution data for years, except for apk (see
// apk.go); this package adds the input validation those libraries leave out
// (they silently coerce some malformed versions instead of failing) and a
// common interface.
package version

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	debver "github.com/knqyf263/go-deb-version"
	rpmver "github.com/knqyf263/go-rpm-version"

	"github.com/vigil-project/vigil/internal/inventory"
)

// Comparer orders the versions of one package ecosystem. Compare returns a
// negative number when a sorts before b, zero when they are equal and a
// positive number when a sorts after b (always -1, 0 or 1). It returns an
// error wrapping ErrInvalid when either version is not well-formed; it never
// panics.
type Comparer interface {
	Compare(a, b string) (int, error)
}

// ErrInvalid is wrapped by every error about a malformed version.
var ErrInvalid = errors.New("invalid version")

// InvalidError says which version was rejected and why.
type InvalidError struct {
	Ecosystem string // "deb", "rpm" or "apk"
	Version   string
	Reason    string
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("invalid %s version %q: %s", e.Ecosystem, e.Version, e.Reason)
}

func (e *InvalidError) Unwrap() error { return ErrInvalid }

// For returns the ordering of an inventory package ecosystem
// (inventory.EcosystemDeb, EcosystemRPM or EcosystemAPK).
func For(ecosystem string) (Comparer, error) {
	switch ecosystem {
	case inventory.EcosystemDeb:
		return Deb{}, nil
	case inventory.EcosystemRPM:
		return RPM{}, nil
	case inventory.EcosystemAPK:
		return APK{}, nil
	}
	return nil, fmt.Errorf("version: no ordering known for package ecosystem %q", ecosystem)
}

// maxDigits bounds a run of digits. The deb and apk libraries convert digit
// runs to machine integers, so longer runs would overflow and compare wrongly;
// refusing them is better than a silent misorder. No real version comes close.
const maxDigits = 18

// Deb orders Debian package versions ([epoch:]upstream[-revision]) as dpkg
// does: a missing epoch is 0, '~' sorts before everything, even the end of
// the string, and letters sort before other symbols.
type Deb struct{}

// Compare implements Comparer.
func (Deb) Compare(a, b string) (int, error) {
	va, err := parseDeb(a)
	if err != nil {
		return 0, err
	}
	vb, err := parseDeb(b)
	if err != nil {
		return 0, err
	}
	return sign(va.Compare(vb)), nil
}

func parseDeb(s string) (debver.Version, error) {
	bad := func(reason string) (debver.Version, error) {
		return debver.Version{}, &InvalidError{Ecosystem: inventory.EcosystemDeb, Version: s, Reason: reason}
	}
	if err := checkChars(s); err != "" {
		return bad(err)
	}
	rest := s
	if e, r, ok := strings.Cut(s, ":"); ok {
		// dpkg rejects an empty or non-numeric epoch; the library would
		// accept "+1" or "-0" through strconv.
		if reason := checkEpoch(e); reason != "" {
			return bad(reason)
		}
		rest = r
	}
	if rest == "" {
		return bad("nothing after the epoch")
	}
	if strings.HasSuffix(rest, "-") {
		return bad("revision is empty") // dpkg: "revision number is empty"
	}
	if reason := checkDigitRuns(rest); reason != "" {
		return bad(reason)
	}
	v, err := debver.NewVersion(s)
	if err != nil {
		return bad(err.Error())
	}
	return v, nil
}

// RPM orders rpm versions ([epoch:]version[-release]) as rpm does: epochs
// compare numerically with a missing epoch meaning 0, then version and
// release with rpmvercmp, including '~' (sorts before the end of a segment
// list: 1.0~rc1 < 1.0) and '^' (sorts after it but before any further
// segment: 1.0 < 1.0^git1 < 1.0.1). The go-rpm-version library implements
// both; the rpmvercmp.at vectors in the tests check it.
//
// One deliberate difference from rpm's dependency matching: rpm skips the
// release when only one side has one ("1.0" matches "1.0-5"), which is not a
// total order. Here a missing release sorts before any release, so events
// in an advisory can be sorted consistently.
type RPM struct{}

// Compare implements Comparer.
func (RPM) Compare(a, b string) (int, error) {
	va, err := parseRPM(a)
	if err != nil {
		return 0, err
	}
	vb, err := parseRPM(b)
	if err != nil {
		return 0, err
	}
	return sign(va.Compare(vb)), nil
}

func parseRPM(s string) (rpmver.Version, error) {
	bad := func(reason string) (rpmver.Version, error) {
		return rpmver.Version{}, &InvalidError{Ecosystem: inventory.EcosystemRPM, Version: s, Reason: reason}
	}
	if err := checkChars(s); err != "" {
		return bad(err)
	}
	vr := s
	if e, r, ok := strings.Cut(s, ":"); ok {
		// The library turns a bad epoch into 0 without a word.
		if reason := checkEpoch(e); reason != "" {
			return bad(reason)
		}
		vr = r
	}
	if strings.Contains(vr, ":") {
		return bad("more than one ':'")
	}
	// rpm forbids '-' inside version and release, so an EVR has at most one.
	// The library splits at the first '-' and rpm at the last: with one they
	// agree.
	if strings.Count(vr, "-") > 1 {
		return bad("more than one '-' (rpm versions and releases cannot contain '-')")
	}
	v, r, hasRelease := strings.Cut(vr, "-")
	if v == "" {
		return bad("version is empty")
	}
	if hasRelease && r == "" {
		return bad("release is empty")
	}
	return rpmver.NewVersion(s), nil
}

// APK orders Alpine package versions as apk-tools does: numeric components
// (a zero-led one compares as a string), an optional letter, suffixes
// (_alpha < _beta < _pre < _rc < none < _cvs < _svn < _git < _hg < _p), an
// optional ~commit hash and a -rN package revision. See apk.go for why this
// one is not delegated to go-apk-version.
type APK struct{}

// Compare implements Comparer.
func (APK) Compare(a, b string) (int, error) {
	ta, err := parseAPK(a)
	if err != nil {
		return 0, err
	}
	tb, err := parseAPK(b)
	if err != nil {
		return 0, err
	}
	return compareAPKTokens(ta, tb), nil
}

func parseAPK(s string) ([]apkToken, error) {
	bad := func(reason string) ([]apkToken, error) {
		return nil, &InvalidError{Ecosystem: inventory.EcosystemAPK, Version: s, Reason: reason}
	}
	if err := checkChars(s); err != "" {
		return bad(err)
	}
	if reason := checkDigitRuns(s); reason != "" {
		return bad(reason)
	}
	tokens, ok := parseAPKTokens(s)
	if !ok {
		return bad("not in apk version syntax")
	}
	return tokens, nil
}

// checkChars rejects what no package manager writes: empty strings,
// whitespace, control characters and non-ASCII bytes. The libraries treat
// non-ASCII letters as letters, which dpkg and rpm do not.
func checkChars(s string) string {
	if s == "" {
		return "empty"
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return fmt.Sprintf("byte %#x at %d is not printable ASCII", c, i)
		}
	}
	return ""
}

func checkEpoch(e string) string {
	if e == "" {
		return "epoch is empty"
	}
	if strings.Trim(e, "0123456789") != "" {
		return "epoch is not a number"
	}
	if _, err := strconv.ParseUint(e, 10, 31); err != nil {
		return "epoch is too big" // dpkg and rpm both cap it at a 32-bit int
	}
	return ""
}

func checkDigitRuns(s string) string {
	run := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			run++
			if run > maxDigits {
				return fmt.Sprintf("a run of more than %d digits", maxDigits)
			}
		} else {
			run = 0
		}
	}
	return ""
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
