package version

import "strings"

// The apk ordering follows apk-tools' current src/version.c (the tokenizer
// with TOKEN_INITIAL_DIGIT and the ~commit-hash token) rather than
// go-apk-version, which ports the older apk-tools 2.10 tokenizer. The two
// differ on zero-led components after the first:
//   - 2.10 turns "0" followed by a pre-release suffix into an extra empty
//     digit token, so it orders 1.0_rc1 *after* 1.0 and 3.0.0_rc2-r0 after
//     3.0.0-r0, against its own suffix rules. For a vulnerability scanner
//     that is a false negative: a release candidate below a fixed release
//     reads as fixed.
//   - 2.10 weighs a zero-led run by its count of zeros; current apk compares
//     it as a string, so 8.2.0015 < 8.2.002.
//
// Everywhere else they agree; TestAPKAgainstLibrary checks that on every
// pair of versions from the vectors and the real apk databases in the
// collect fixtures.
//
// Grammar: digit{.digit}...{letter}{_suffix{digits}}...{~hexhash}{-rN}

// apk token kinds, in apk-tools' order: the order is part of the comparison.
const (
	apkInitialDigit = iota
	apkDigit
	apkLetter
	apkSuffix
	apkSuffixNo
	apkCommitHash
	apkRevisionNo
	apkEnd
)

// apk suffixes; apkSuffixNone is the pivot between pre- and post-release.
var apkSuffixes = map[string]int{
	"alpha": 1, "beta": 2, "pre": 3, "rc": 4, // pre-release
	"cvs": 6, "svn": 7, "git": 8, "hg": 9, "p": 10, // post-release
}

const apkSuffixNone = 5

type apkToken struct {
	kind   int
	suffix int    // apkSuffix only
	number uint64 // digit kinds only
	value  string // the token's text, for string comparison
}

// parseAPKTokens splits a version into tokens, ending with an apkEnd token.
// ok is false when apk-tools would reject the version.
func parseAPKTokens(s string) (tokens []apkToken, ok bool) {
	digits := func(kind int) bool {
		i := 0
		var n uint64
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			n = n*10 + uint64(s[i]-'0') // digit runs are capped by checkDigitRuns
			i++
		}
		if i == 0 {
			return false
		}
		tokens = append(tokens, apkToken{kind: kind, number: n, value: s[:i]})
		s = s[i:]
		return true
	}
	if !digits(apkInitialDigit) {
		return nil, false
	}
	for s != "" {
		prev := tokens[len(tokens)-1].kind
		switch c := s[0]; {
		case c >= 'a' && c <= 'z':
			if prev > apkDigit {
				return nil, false
			}
			tokens = append(tokens, apkToken{kind: apkLetter, value: s[:1]})
			s = s[1:]
		case c == '.' || c >= '0' && c <= '9':
			var kind int
			switch {
			case c == '.' && prev <= apkDigit:
				s = s[1:]
				kind = apkDigit
			case c != '.' && prev == apkSuffix:
				kind = apkSuffixNo
			default:
				return nil, false
			}
			if !digits(kind) {
				return nil, false
			}
		case c == '_':
			if prev > apkSuffixNo {
				return nil, false
			}
			s = s[1:]
			n := strings.IndexFunc(s, func(r rune) bool { return r < 'a' || r > 'z' })
			if n < 0 {
				n = len(s)
			}
			suf, known := apkSuffixes[s[:n]]
			if !known {
				return nil, false
			}
			tokens = append(tokens, apkToken{kind: apkSuffix, suffix: suf, value: s[:n]})
			s = s[n:]
		case c == '~':
			if prev >= apkCommitHash {
				return nil, false
			}
			s = s[1:]
			n := strings.IndexFunc(s, func(r rune) bool {
				return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F')
			})
			if n < 0 {
				n = len(s)
			}
			if n == 0 {
				return nil, false
			}
			tokens = append(tokens, apkToken{kind: apkCommitHash, value: s[:n]})
			s = s[n:]
		case c == '-':
			if prev >= apkRevisionNo || !strings.HasPrefix(s, "-r") {
				return nil, false
			}
			s = s[2:]
			if !digits(apkRevisionNo) {
				return nil, false
			}
		default:
			return nil, false
		}
	}
	return append(tokens, apkToken{kind: apkEnd}), true
}

// compareAPKTokens is apk_version_compare: walk both token lists while the
// kinds agree, then let the kind of the first difference decide.
func compareAPKTokens(a, b []apkToken) int {
	i := 0
	for ; a[i].kind == b[i].kind && a[i].kind < apkEnd; i++ {
		if r := compareAPKToken(a[i], b[i]); r != 0 {
			return r
		}
	}
	ta, tb := a[i], b[i]
	switch {
	case ta.kind == tb.kind:
		return 0
	// The longer version is newer unless what it has more of is a
	// pre-release suffix: 1.0_rc1 < 1.0 < 1.0_p1 < 1.0-r1.
	case ta.kind == apkSuffix && ta.suffix < apkSuffixNone:
		return -1
	case tb.kind == apkSuffix && tb.suffix < apkSuffixNone:
		return 1
	case ta.kind > tb.kind:
		return -1
	default:
		return 1
	}
}

func compareAPKToken(a, b apkToken) int {
	var x, y uint64
	switch a.kind {
	case apkDigit:
		// A zero-led component compares as a string, as in Gentoo's
		// rules: 1.01 < 1.1 and 1.001 < 1.01.
		if a.value[0] == '0' || b.value[0] == '0' {
			return strings.Compare(a.value, b.value)
		}
		x, y = a.number, b.number
	case apkInitialDigit, apkSuffixNo, apkRevisionNo:
		x, y = a.number, b.number
	case apkLetter:
		x, y = uint64(a.value[0]), uint64(b.value[0])
	case apkSuffix:
		x, y = uint64(a.suffix), uint64(b.suffix)
	default: // commit hash: no order but a stable one
		return strings.Compare(a.value, b.value)
	}
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}
