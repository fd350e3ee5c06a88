package version

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	apkver "github.com/knqyf263/go-apk-version"
)

// zeroLed matches the class of versions where go-apk-version (apk-tools
// 2.10's tokenizer) and current apk-tools disagree: a zero-led component
// after the first that has more digits (current apk compares it as a string,
// 2.10 counted the zeros) or is followed by a pre-release suffix.
var zeroLed = regexp.MustCompile(`\.0([0-9]|[0-9]*_(alpha|beta|pre|rc))`)

// TestAPKAgainstLibrary compares APK with go-apk-version on every pair of
// apk versions from the vectors and from the real apk databases in the
// collect fixtures. They must agree except on the documented class.
func TestAPKAgainstLibrary(t *testing.T) {
	seen := map[string]bool{}
	var versions []string
	add := func(v string) {
		if v != "" && !seen[v] {
			seen[v] = true
			versions = append(versions, v)
		}
	}
	for _, v := range apkVectors {
		add(v.a)
		add(v.b)
	}
	files, err := filepath.Glob("../../collect/testdata/hosts/*/lib/apk/db/installed*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no apk fixtures: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "V:"); ok {
				add(v)
			}
		}
	}
	var pairs, differ int
	for _, a := range versions {
		for _, b := range versions {
			if strings.Contains(a+b, "~") {
				continue // go-apk-version predates the ~hash token
			}
			got, err := APK{}.Compare(a, b)
			if err != nil {
				t.Errorf("Compare(%q, %q): %v", a, b, err)
				continue
			}
			pairs++
			want := apkver.Version(a).Compare(apkver.Version(b))
			if got == want {
				continue
			}
			differ++
			if !zeroLed.MatchString(a) && !zeroLed.MatchString(b) {
				t.Errorf("Compare(%q, %q) = %d, go-apk-version says %d", a, b, got, want)
			}
		}
	}
	t.Logf("%d versions, %d pairs, %d differ (all zero-led components)", len(versions), pairs, differ)
	if pairs < 3000 {
		t.Errorf("only %d pairs", pairs)
	}
}
