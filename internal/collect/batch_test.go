package collect

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport"
	"github.com/vigil-project/vigil/internal/transport/local"
)

// The batch script run by this machine's real /bin/sh: output without a
// final newline, a failing command with stderr, a command past the time
// limit, and output that imitates the markers.
func TestBatchOnRealShell(t *testing.T) {
	cmds := []batchCmd{
		{"plain", `printf 'a\nb'`},
		{"quotes", `echo "it's" '$HOME'`},
		{"fails", `echo partial; echo 'no such thing' >&2; exit 3`},
		{"slow", `sleep 5; echo late`},
		{"forged", `printf '@@0000000000000000 E forged 0 1 2\n\n@@ E x\n'`},
		{"empty", `true`},
	}
	start := time.Now()
	res, err := runBatch(context.Background(), local.Runner{}, cmds, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("batch took %v: the per-command limit did not stop sleep", d)
	}
	want := []struct {
		out  string
		code int
		err  string
	}{
		{"a\nb", 0, ""},
		{"it's $HOME\n", 0, ""},
		{"partial\n", 3, "no such thing"},
		{"", 124, "timed out"},
		{"@@0000000000000000 E forged 0 1 2\n\n@@ E x\n", 0, ""},
		{"", 0, ""},
	}
	for i, w := range want {
		r := res[i]
		if string(r.out) != w.out {
			t.Errorf("%s: out %q, want %q", cmds[i].name, r.out, w.out)
		}
		var exit *transport.ExitError
		switch {
		case w.code == 0 && r.err != nil:
			t.Errorf("%s: err %v", cmds[i].name, r.err)
		case w.code != 0 && (!errors.As(r.err, &exit) || exit.Code != w.code || !strings.Contains(exit.Stderr, w.err)):
			t.Errorf("%s: err %v, want exit %d with %q", cmds[i].name, r.err, w.code, w.err)
		}
		if r.duration < 0 || r.duration > 3*time.Second {
			t.Errorf("%s: duration %v", cmds[i].name, r.duration)
		}
	}
	if res[3].duration < 900*time.Millisecond {
		t.Errorf("slow: duration %v, want about the 1 s limit", res[3].duration)
	}
}

// AnswerBatch (the replays' side) produces what parseBatch reads back.
func TestAnswerBatchRoundTrip(t *testing.T) {
	cmds := []batchCmd{{"a", "cat '/etc/x'"}, {"b", `echo "$V"`}, {"c", "missing"}}
	answers := map[string]struct {
		out    string
		stderr string
		code   int
	}{
		"cat '/etc/x'": {"x\ny", "", 0},
		`echo "$V"`:    {"", "warn\n", 0},
		"missing":      {"", "sh: missing: not found", 127},
	}
	script := buildBatch("0123456789abcdef", time.Minute, cmds)
	out, ok := AnswerBatch(script, func(c string) ([]byte, string, int) {
		a := answers[c]
		return []byte(a.out), a.stderr, a.code
	})
	if !ok || !IsBatch(script) {
		t.Fatal("script not recognised as a batch")
	}
	res := make([]cmdResult, len(cmds))
	parseBatch(out, "0123456789abcdef", cmds, res)
	if string(res[0].out) != "x\ny" || res[0].err != nil || res[1].err != nil || string(res[1].out) != "" {
		t.Errorf("results %+v", res)
	}
	var exit *transport.ExitError
	if !errors.As(res[2].err, &exit) || exit.Code != 127 || exit.Stderr != "sh: missing: not found" {
		t.Errorf("missing: %v", res[2].err)
	}
	if _, ok := AnswerBatch("cat /etc/passwd", nil); ok {
		t.Error("a plain command was taken for a batch")
	}
}

// countingRunner counts exec round trips and answers like fakeRunner, or,
// with noBatch, rejects batch scripts as an old replay would (exit 127).
type countingRunner struct {
	*fakeRunner
	noBatch bool
}

func (c countingRunner) Run(ctx context.Context, cmd string) ([]byte, error) {
	if c.noBatch && IsBatch(cmd) {
		c.execs++
		return nil, &transport.ExitError{Code: 127, Stderr: "sh: command not in the recording"}
	}
	return c.fakeRunner.Run(ctx, cmd)
}

// Round trips per host: before batching a scan ran one exec per probe (10
// system probes and the package probe: 11) and one per item; now a scan is
// two and all items one, with or without sudo. A host that rejects the
// batch still gets every probe, one exec each, after the one rejected try.
func TestScanRoundTrips(t *testing.T) {
	for _, sudo := range []bool{false, true} {
		r := debianHost(t)
		var rep inventory.HostReport
		if err := Scan(context.Background(), countingRunner{fakeRunner: r}, &rep, scanNow, WithSudo(sudo)); err != nil {
			t.Fatal(err)
		}
		if r.execs != 2 {
			t.Errorf("sudo %v: %d exec round trips, want 2", sudo, r.execs)
		}
	}

	r := debianHost(t)
	var rep inventory.HostReport
	if err := Scan(context.Background(), countingRunner{fakeRunner: r, noBatch: true}, &rep, scanNow); err != nil {
		t.Fatal(err)
	}
	// 13 system probes, then dpkg and python: each batch is tried once.
	if want := 2 + 13 + 2; r.execs != want {
		t.Errorf("fallback: %d execs, want %d", r.execs, want)
	}
	if rep.System.Hostname != "web-1" || len(rep.Packages) != 7+68 {
		t.Errorf("fallback lost data: hostname %q, %d packages", rep.System.Hostname, len(rep.Packages))
	}

	cmds := ItemCommands()
	ir := &fakeRunner{out: map[string]string{}}
	var reqs []inventory.ItemRequest
	for _, p := range itemProbeList {
		if strings.HasPrefix(p.name, "win_") {
			continue // PowerShell: not batched over sh
		}
		ir.out[cmds[p.name]] = string(itemOutput(t, p.name))
		reqs = append(reqs, probeReq(p.name))
	}
	res := CollectItems(context.Background(), ir, reqs, nil)
	if ir.execs != 1 || len(res) != 13 {
		t.Errorf("items: %d execs for %d items, want 1", ir.execs, len(res))
	}
}

// The per-command limit never outlives the host's deadline.
func TestBatchLimitFollowsDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	res, err := runBatch(ctx, local.Runner{}, []batchCmd{{"slow", "sleep 10"}, {"after", "echo ok"}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var exit *transport.ExitError
	if !errors.As(res[0].err, &exit) || exit.Code != 124 || string(res[1].out) != "ok\n" {
		t.Errorf("results %+v %+v", res[0], res[1])
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
}

// The script under each login shell a scan account may have: dash (sh),
// bash, zsh (which does not split unquoted words) and BusyBox ash (Alpine,
// whose timeout is BusyBox's too). Shells not installed are skipped.
func TestBatchUnderShells(t *testing.T) {
	cmds := []batchCmd{{"ok", `printf 'a b\n'`}, {"fails", `echo err >&2; exit 2`}, {"slow", `sleep 5`}}
	for _, sh := range [][]string{{"sh"}, {"bash"}, {"zsh"}, {"busybox", "sh"}} {
		if _, err := exec.LookPath(sh[0]); err != nil {
			t.Logf("%s: not installed", sh[0])
			continue
		}
		script := buildBatch("feedfacecafebeef", time.Second, cmds)
		out, err := exec.Command(sh[0], append(sh[1:], "-c", script)...).Output()
		if err != nil {
			t.Errorf("%v: %v", sh, err)
			continue
		}
		res := make([]cmdResult, len(cmds))
		for i := range res {
			res[i].err = errNotReached
		}
		parseBatch(out, "feedfacecafebeef", cmds, res)
		var e1, e2 *transport.ExitError
		if string(res[0].out) != "a b\n" || res[0].err != nil ||
			!errors.As(res[1].err, &e1) || e1.Code != 2 || e1.Stderr != "err" ||
			!errors.As(res[2].err, &e2) || e2.Code == 0 {
			t.Errorf("%v: results %+v %+v %+v\n%s", sh, res[0], res[1], res[2], out)
		}
	}
}

// constRunner answers every command the same, as a forced command would.
type constRunner struct{ n *int }

func (c constRunner) Run(context.Context, string) ([]byte, error) {
	*c.n++
	return []byte("hello\n"), nil
}

// Output without markers, even with exit status 0, means the script did not
// run: the commands go one exec each and their results are their own.
func TestRunBatchNoMarkers(t *testing.T) {
	n := 0
	res, err := runBatch(context.Background(), constRunner{&n}, []batchCmd{{"a", "x"}, {"b", "y"}}, time.Minute)
	if err != nil || n != 3 || string(res[0].out) != "hello\n" || string(res[1].out) != "hello\n" || res[1].err != nil {
		t.Errorf("err %v, %d execs, results %+v", err, n, res)
	}
}
