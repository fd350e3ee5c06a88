package collect

import (
	"errors"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport"
)

// Fuzz tests for the batch framing, the privileged probes' parsers and the
// Python metadata parser; seeds in testdata/fuzz/<FuzzName>/ are the real
// recordings their table tests use.

func FuzzParseBatch(f *testing.F) {
	cmds := []batchCmd{{"os", "x"}, {"packages", "y"}, {"sudoers", "z"}}
	f.Fuzz(func(t *testing.T, out []byte) {
		res := make([]cmdResult, len(cmds))
		for i := range res {
			res[i].err = errNotReached
		}
		parseBatch(out, "00112233aabbccdd", cmds, res)
		for i, r := range res {
			var exit *transport.ExitError
			switch {
			case r.err == nil, r.err == errNotReached:
			case errors.As(r.err, &exit):
				if exit.Code == 0 {
					t.Errorf("%s: exit error with status 0", cmds[i].name)
				}
			default:
				t.Errorf("%s: error %v", cmds[i].name, r.err)
			}
			if r.duration < 0 {
				t.Errorf("%s: duration %v", cmds[i].name, r.duration)
			}
			if r.err == errNotReached && r.out != nil {
				t.Errorf("%s: output without an end marker", cmds[i].name)
			}
		}
	})
}

func FuzzParseListeningProcesses(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		sps, err := ParseListeningProcesses(out)
		checkErrPrefix(t, err, "parse ss: ")
		for _, sp := range sps {
			if sp.Proto != "tcp" && sp.Proto != "udp" || sp.Port < 0 || sp.Port > 65535 || sp.Address == "" {
				t.Errorf("socket %+v", sp)
			}
			for _, p := range sp.Processes {
				if p == "" || strings.Contains(p, `"`) {
					t.Errorf("process %q", p)
				}
			}
		}
	})
}

func FuzzParseAccountStatus(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		m, err := ParseAccountStatus(out)
		checkErrPrefix(t, err, "parse passwd -S: ")
		for name := range m {
			if name == "" || strings.ContainsAny(name, " \t\n") {
				t.Errorf("account %q", name)
			}
		}
	})
}

func FuzzParseSudoers(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		s, err := ParseSudoers(out)
		checkErrPrefix(t, err, "parse sudoers: ")
		if err != nil {
			return
		}
		if s.Users == nil || s.Groups == nil {
			t.Error("nil lists without an error")
		}
		for _, u := range append(append([]string{}, s.Users...), s.Groups...) {
			if u == "" || u[0] == '!' {
				t.Errorf("principal %q", u)
			}
		}
	})
}

func FuzzParsePythonMetadata(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		pkgs, err := ParsePythonMetadata(out)
		checkErrPrefix(t, err, "parse python metadata: ")
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" || p.Ecosystem != inventory.EcosystemPyPI {
				t.Errorf("package %+v", p)
			}
			k := NormalizePythonName(p.Name) + " " + p.Version
			if seen[k] {
				t.Errorf("duplicate %s", k)
			}
			seen[k] = true
		}
	})
}

func FuzzParseDMIIDs(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		serial, uuid, err := ParseDMIIDs(out)
		checkErrPrefix(t, err, "parse dmi ids: ")
		if strings.ContainsAny(serial+uuid, "\n\r\x00") {
			t.Errorf("control characters in %q %q", serial, uuid)
		}
	})
}
