package version

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// debVersionSources are real dpkg status files: this machine's own and the
// fixtures the collect tests use (Ubuntu 18.04, Debian 10 and 12 excerpts).
func debVersionSources(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../collect/testdata/hosts/*/var/lib/dpkg/status*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no dpkg status fixtures: %v", err)
	}
	if _, err := os.Stat("/var/lib/dpkg/status"); err == nil {
		files = append(files, "/var/lib/dpkg/status")
	}
	return files
}

// statusVersions returns every Version and every version in a
// "Source: name (version)" line.
func statusVersions(t *testing.T, files []string) []string {
	t.Helper()
	seen := map[string]bool{}
	var out []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Text()
			var v string
			if rest, ok := strings.CutPrefix(line, "Version: "); ok {
				v = strings.TrimSpace(rest)
			} else if rest, ok := strings.CutPrefix(line, "Source: "); ok {
				if _, paren, ok := strings.Cut(rest, " ("); ok {
					v = strings.TrimSuffix(paren, ")")
				}
			}
			if v != "" && !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	return out
}

// TestDebAgainstDpkg checks Deb against the machine's own dpkg on thousands
// of pairs of real versions: the neighbours after sorting (the pairs most
// likely to expose an ordering mistake), random pairs with a fixed seed, and
// the hand-written vectors.
func TestDebAgainstDpkg(t *testing.T) {
	dpkg, err := exec.LookPath("dpkg")
	if err != nil {
		t.Skip("dpkg not installed")
	}
	versions := statusVersions(t, debVersionSources(t))
	if len(versions) < 500 {
		t.Fatalf("only %d distinct versions", len(versions))
	}
	var sortErr error
	slices.SortFunc(versions, func(a, b string) int {
		c, err := Deb{}.Compare(a, b)
		if err != nil && sortErr == nil {
			sortErr = err
		}
		return c
	})
	if sortErr != nil {
		t.Fatalf("real version rejected: %v", sortErr)
	}

	var pairs [][2]string
	for i := 1; i < len(versions); i++ {
		pairs = append(pairs, [2]string{versions[i-1], versions[i]})
	}
	rng := rand.New(rand.NewPCG(2024, 12))
	for range 2500 {
		pairs = append(pairs, [2]string{versions[rng.IntN(len(versions))], versions[rng.IntN(len(versions))]})
	}
	for _, v := range debVectors {
		pairs = append(pairs, [2]string{v.a, v.b})
	}
	if len(pairs) < 3000 {
		t.Fatalf("only %d pairs", len(pairs))
	}

	want := dpkgCompareAll(t, dpkg, pairs)
	mismatches := 0
	for i, p := range pairs {
		got, err := Deb{}.Compare(p[0], p[1])
		if err != nil {
			t.Errorf("Compare(%q, %q): %v", p[0], p[1], err)
			continue
		}
		if got != want[i] {
			mismatches++
			if mismatches <= 20 {
				t.Errorf("Compare(%q, %q) = %d, dpkg says %d", p[0], p[1], got, want[i])
			}
		}
	}
	t.Logf("%d distinct versions, %d pairs checked against %s, %d mismatches", len(versions), len(pairs), dpkg, mismatches)
}

// dpkgCompareAll asks dpkg about every pair. dpkg compares one pair per run,
// so each batch of a few hundred pairs goes to one shell that loops over
// them, rather than one process started from Go per pair; batches run in
// parallel. The pairs travel on stdin, so no version is ever quoted.
func dpkgCompareAll(t *testing.T, dpkg string, pairs [][2]string) []int {
	t.Helper()
	const batch = 300
	const script = `while read -r a b; do
  if "$0" --compare-versions "$a" lt "$b"; then echo -1
  elif "$0" --compare-versions "$a" eq "$b"; then echo 0
  else echo 1; fi
done`
	out := make([]int, len(pairs))
	var wg sync.WaitGroup
	errs := make(chan error, len(pairs)/batch+1)
	sem := make(chan struct{}, 8)
	for start := 0; start < len(pairs); start += batch {
		end := min(start+batch, len(pairs))
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			var in bytes.Buffer
			for _, p := range pairs[start:end] {
				fmt.Fprintf(&in, "%s %s\n", p[0], p[1])
			}
			cmd := exec.Command("sh", "-c", script, dpkg)
			cmd.Stdin = &in
			res, err := cmd.Output()
			if err != nil {
				errs <- fmt.Errorf("dpkg batch %d: %w", start/batch, err)
				return
			}
			lines := strings.Fields(string(res))
			if len(lines) != end-start {
				errs <- fmt.Errorf("dpkg batch %d: %d answers for %d pairs", start/batch, len(lines), end-start)
				return
			}
			for i, l := range lines {
				fmt.Sscan(l, &out[start+i])
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return out
}
