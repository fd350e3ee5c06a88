package version

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

var fixedEvent = regexp.MustCompile(`"fixed":\s*"([^"]+)"`)

// rpmVersions gathers real EVRs: Red Hat's UBI 8.0 manifest and the ohai
// rpm query from the collect fixtures, and the fixed versions of the
// AlmaLinux advisories in ../osv/testdata plus, when present, the whole
// shared AlmaLinux collection (VIGIL_OSV_ALMALINUX or its default path).
func rpmVersions(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	var out []string
	add := func(v string) {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	var manifest struct {
		RPMs []struct{ Name, Architecture, Nerva string } `json:"rpms"`
	}
	data, err := os.ReadFile("../../collect/testdata/hosts/claircore/rpm-manifest/ubi8-rhel-8.0.rpm-manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &manifest); err != nil {
		t.Fatal(err)
	}
	for _, r := range manifest.RPMs {
		add(strings.TrimSuffix(strings.TrimPrefix(r.Nerva, r.Name+"-"), "."+r.Architecture))
	}
	data, err = os.ReadFile("../../collect/testdata/hosts/ohai/rpmquery.output")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Split(line, "\t"); len(f) >= 4 {
			add(f[1] + ":" + f[2] + "-" + f[3])
		}
	}
	files, _ := filepath.Glob("../osv/testdata/almalinux/*.json")
	shared := os.Getenv("VIGIL_OSV_ALMALINUX")
	if shared == "" {
		shared = "/work/shared/testdata/osv/almalinux/advisories/almalinux9"
	}
	more, _ := filepath.Glob(filepath.Join(shared, "*.json"))
	for _, f := range append(files, more...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range fixedEvent.FindAllSubmatch(data, -1) {
			add(string(m[1]))
		}
	}
	return out
}

// TestRPMAgainstRPM checks RPM against the machine's own rpm (rpm.vercmp,
// which parses both sides as EVRs) on thousands of pairs of real EVRs,
// chosen as TestDebAgainstDpkg chooses its pairs.
func TestRPMAgainstRPM(t *testing.T) {
	rpm, err := exec.LookPath("rpm")
	if err != nil {
		t.Skip("rpm not installed")
	}
	versions := rpmVersions(t)
	var sortErr error
	slices.SortFunc(versions, func(a, b string) int {
		c, err := RPM{}.Compare(a, b)
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
	for range 3000 {
		pairs = append(pairs, [2]string{versions[rng.IntN(len(versions))], versions[rng.IntN(len(versions))]})
	}
	for _, v := range append(rpmvercmpVectors, rpmEVRVectors...) {
		pairs = append(pairs, [2]string{v.a, v.b})
	}
	want := rpmCompareAll(t, rpm, pairs)
	mismatches := 0
	for i, p := range pairs {
		got, err := RPM{}.Compare(p[0], p[1])
		if err != nil {
			t.Errorf("Compare(%q, %q): %v", p[0], p[1], err)
			continue
		}
		if got != want[i] {
			mismatches++
			if mismatches <= 20 {
				t.Errorf("Compare(%q, %q) = %d, rpm says %d", p[0], p[1], got, want[i])
			}
		}
	}
	t.Logf("%d distinct EVRs, %d pairs checked against %s, %d mismatches", len(versions), len(pairs), rpm, mismatches)
	if len(pairs) < 3000 {
		t.Errorf("only %d pairs", len(pairs))
	}
}

// rpmCompareAll evaluates one Lua chunk per batch of pairs in a single rpm
// process. Versions are printable ASCII without quotes or backslashes
// (checked), so they can sit in Lua string literals as they are.
func rpmCompareAll(t *testing.T, rpm string, pairs [][2]string) []int {
	t.Helper()
	const batch = 500
	out := make([]int, len(pairs))
	var wg sync.WaitGroup
	errs := make(chan error, len(pairs)/batch+1)
	for start := 0; start < len(pairs); start += batch {
		end := min(start+batch, len(pairs))
		var lua strings.Builder
		lua.WriteString("%{lua:\n")
		for _, p := range pairs[start:end] {
			for _, v := range p {
				if strings.ContainsAny(v, "\"\\%{}") {
					t.Fatalf("version %q cannot be quoted for rpm", v)
				}
			}
			fmt.Fprintf(&lua, "print(rpm.vercmp(\"%s\", \"%s\") .. \" \")\n", p[0], p[1])
		}
		lua.WriteString("}")
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := exec.Command(rpm, "--eval", lua.String()).Output()
			if err != nil {
				errs <- fmt.Errorf("rpm batch %d: %w", start/batch, err)
				return
			}
			fields := strings.Fields(string(bytes.TrimSpace(res)))
			if len(fields) != end-start {
				errs <- fmt.Errorf("rpm batch %d: %d answers for %d pairs", start/batch, len(fields), end-start)
				return
			}
			for i, f := range fields {
				fmt.Sscan(f, &out[start+i])
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
