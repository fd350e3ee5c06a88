package cpe

import (
	"errors"
	"fmt"
	"strings"

	goversion "github.com/aquasecurity/go-version/pkg/version"
)

// ErrUnparseable is returned (wrapped) for a version CompareVersions cannot
// order. Evaluate treats such a version as outside every bounded range.
var ErrUnparseable = errors.New("version cannot be ordered")

// CompareVersions orders two upstream version strings as NVD's version
// bounds mean them, returning -1, 0 or 1.
//
// Purely dotted-numeric versions ("2.4.38", "10.0.19045.3570", "v1.2") go
// to github.com/aquasecurity/go-version, which compares them segment by
// segment with missing segments as zero. Everything else goes to
// compareTokens below, because go-version's pre-release rules misorder
// what NVD bounds contain: it reads OpenSSL's letter releases as
// pre-releases (1.1.1a < 1.1.1, though 1.1.1a is the later release),
// compares "beta10" < "beta9" as strings, treats "-x" as a wildcard, and
// puts a Debian-style revision "2.4.38-1" before 2.4.38.
//
// A version is unparseable — ErrUnparseable, never a silent order — when it
// is empty, longer than 128 bytes, does not start with a digit (after an
// optional "v"), or holds characters other than letters, digits and
// . - _ + ~ : ( ) — e.g. "-", "*", "latest", "1.0 beta", "2.0/3".
func CompareVersions(a, b string) (int, error) {
	ta, err := tokenize(a)
	if err != nil {
		return 0, err
	}
	tb, err := tokenize(b)
	if err != nil {
		return 0, err
	}
	if numericOnly(a) && numericOnly(b) {
		va, errA := goversion.Parse(a)
		vb, errB := goversion.Parse(b)
		if errA == nil && errB == nil {
			return va.Compare(vb), nil
		}
		// Segments beyond uint64 fail in go-version; the tokens compare
		// digit strings of any length.
	}
	return compareTokens(ta, tb), nil
}

// numericOnly reports whether s is v?N(.N)*.
func numericOnly(s string) bool {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "v"), "V")
	if s == "" {
		return false
	}
	prevDot := true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			prevDot = false
		case c == '.' && !prevDot:
			prevDot = true
		default:
			return false
		}
	}
	return !prevDot
}

// Token kinds, in the order they sort at one position: a pre-release word
// sorts before any number (2.0-rc1 < 2.0 = 2.0.0), and any other word
// after every number (1.1.1a > 1.1.1, 9.8p1 > 9.8, 1.9.5p2 > 1.9.5p1).
const (
	kindPre = iota
	kindNum
	kindPost
)

type token struct {
	kind int
	s    string // digits without leading zeros, or a lower-case word
	rank int    // pre-release words: dev < alpha < beta < milestone < rc
}

// preRank ranks the words that mark a pre-release. Single letters only
// count when a number follows at once ("1.0a1", "2.0b3", "5.0c1"), since
// a bare trailing letter is OpenSSL's post-release lettering (1.0.2zh).
var preRank = map[string]int{
	"dev": 0, "snapshot": 0, "nightly": 0,
	"alpha": 1, "a": 1, "ea": 1,
	"beta": 2, "b": 2,
	"milestone": 3, "m": 3,
	"rc": 4, "cr": 4, "c": 4, "pre": 4, "preview": 4,
}

var singleLetterPre = map[string]bool{"a": true, "b": true, "c": true, "m": true}

// neutral words say "the release itself" and are dropped: 2.0-final = 2.0.
var neutral = map[string]bool{"ga": true, "final": true, "release": true, "stable": true}

// tokenize splits a version into numbers and words; separators only
// separate. Trailing zero numbers are dropped so 2.0 equals 2.0.0.
func tokenize(v string) ([]token, error) {
	s := strings.ToLower(v)
	if len(s) > 1 && s[0] == 'v' && isDigit(s[1]) {
		s = s[1:]
	}
	if s == "" || len(s) > 128 || !isDigit(s[0]) {
		return nil, fmt.Errorf("%w: %q", ErrUnparseable, v)
	}
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case isDigit(c):
			j := i
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			out = append(out, token{kind: kindNum, s: strings.TrimLeft(s[i:j], "0")})
			i = j
		case c >= 'a' && c <= 'z':
			j := i
			for j < len(s) && s[j] >= 'a' && s[j] <= 'z' {
				j++
			}
			w := s[i:j]
			i = j
			if neutral[w] {
				continue
			}
			r, pre := preRank[w]
			if singleLetterPre[w] && (j == len(s) || !isDigit(s[j])) {
				pre = false
			}
			if pre {
				out = append(out, token{kind: kindPre, s: w, rank: r})
			} else {
				out = append(out, token{kind: kindPost, s: w})
			}
		case strings.IndexByte(".-_+~:(),", c) >= 0:
			i++
		default:
			return nil, fmt.Errorf("%w: %q has %q", ErrUnparseable, v, c)
		}
	}
	for len(out) > 0 && out[len(out)-1].kind == kindNum && out[len(out)-1].s == "" {
		out = out[:len(out)-1]
	}
	return out, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// compareTokens compares position by position, a missing token counting as
// the number 0. Since every version maps to one token sequence and tokens
// are totally ordered, the result is a total order (transitive), which the
// fuzz test checks alongside agreement with go-version.
func compareTokens(a, b []token) int {
	zero := token{kind: kindNum}
	for i := 0; i < len(a) || i < len(b); i++ {
		x, y := zero, zero
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if c := compareToken(x, y); c != 0 {
			return c
		}
	}
	return 0
}

func compareToken(x, y token) int {
	if x.kind != y.kind {
		return sign(x.kind - y.kind)
	}
	switch x.kind {
	case kindNum:
		if len(x.s) != len(y.s) {
			return sign(len(x.s) - len(y.s))
		}
	case kindPre:
		if x.rank != y.rank {
			return sign(x.rank - y.rank)
		}
	}
	return strings.Compare(x.s, y.s)
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
