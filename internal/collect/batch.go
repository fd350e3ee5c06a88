package collect

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/transport"
)

// A batch runs many catalogue commands in one exec round trip: a POSIX sh
// script that runs each command in its own `sh -c` (so one failing command
// fails only itself), under `timeout` where the host has it, and frames its
// output between marker lines that carry a per-batch random nonce:
//
//	@@<nonce> B <name>
//	<the command's stdout, byte for byte>
//	@@<nonce> E <name> <exit status> <uptime before> <uptime after>
//	@@<nonce> S <name>            (only when the command wrote to stderr)
//	<its stderr>
//
// The nonce makes the markers unforgeable by anything a host prints. The
// stdout is followed by a newline the script adds, so output without a final
// newline still ends before the E marker; the parser takes it off again.
// Timings come from /proc/uptime read by the shell's own `read` (no extra
// process), so they have its 10 ms resolution.
//
// Every command stays one of the compiled-in catalogue: the script is built
// from them and nothing else, and the replay servers (AnswerBatch) recover
// each one exactly.

// batchMagic is the script's first line; AnswerBatch recognises batches by it.
const batchMagic = "# vigil-batch 1"

// DefaultProbeTimeout bounds one command inside a batch.
const DefaultProbeTimeout = 60 * time.Second

// maxBatchStderr bounds the stderr a batch keeps per command (it is only
// shown, truncated, in errors).
const maxBatchStderr = 4096

// batchCmd is one command of a batch, named for the markers: names are made
// of [a-z0-9_:/.-] so they need no quoting.
type batchCmd struct {
	name    string
	command string
}

// cmdResult is what one command did: err is nil, a *transport.ExitError (it
// ran and failed), or errNotReached.
type cmdResult struct {
	out      []byte
	err      error
	duration time.Duration
}

// errNotReached marks a command the batch never got to: the batch was cut
// off (output limit, deadline) after the earlier commands ran.
var errNotReached = errors.New("not run: the batch ended before this command")

// runBatch runs cmds, in one exec round trip when the host runs the batch
// script. A host (or replay) that does not run the script (no markers in
// its output, whatever the exit status) gets the commands one exec each, as
// before batching. The error is a session error: results hold what was collected
// before it, and errNotReached for the rest.
func runBatch(ctx context.Context, r transport.Runner, cmds []batchCmd, limit time.Duration) ([]cmdResult, error) {
	res := make([]cmdResult, len(cmds))
	for i := range res {
		res[i].err = errNotReached
	}
	if len(cmds) == 0 {
		return res, nil
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	for _, c := range cmds {
		if _, ps := transport.DecodePowerShell(c.command); ps {
			// A Windows host has no sh to run the script: its
			// PowerShell probes go one exec each.
			return runEach(ctx, r, cmds, res)
		}
	}
	// No command may outlive the host's own deadline: a probe stopped by
	// timeout still reports, one cut off with the session does not.
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < limit {
		limit = time.Until(dl)
	}
	nonce := newNonce()
	out, err := r.Run(ctx, buildBatch(nonce, limit, cmds))
	var exit *transport.ExitError
	if err != nil && !errors.As(err, &exit) {
		return res, err
	}
	if !bytes.Contains(out, []byte("@@"+nonce+" B ")) {
		// Whatever ran did not run the script (a replay, a forced
		// command, a login shell that is not sh-like): each command on
		// its own fares no worse, and its failures stay per probe.
		return runEach(ctx, r, cmds, res)
	}
	parseBatch(out, nonce, cmds, res)
	if err != nil {
		// Markers and a failed script: only the shell's own failure
		// after some commands ran. Those results stand; the rest say
		// why they are missing.
		for i := range res {
			if res[i].err == errNotReached {
				res[i].err = fmt.Errorf("not run: the batch failed: %w", err)
			}
		}
	}
	return res, nil
}

// runEach is the fallback: one exec per command.
func runEach(ctx context.Context, r transport.Runner, cmds []batchCmd, res []cmdResult) ([]cmdResult, error) {
	for i, c := range cmds {
		// A runner that ignores ctx would otherwise carry a cancelled
		// scan through the whole catalogue.
		if err := ctx.Err(); err != nil {
			return res, err
		}
		start := time.Now()
		out, err := r.Run(ctx, c.command)
		var exit *transport.ExitError
		if err != nil && !errors.As(err, &exit) {
			return res, err
		}
		res[i] = cmdResult{out: out, err: err, duration: time.Since(start)}
	}
	return res, nil
}

func newNonce() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// buildBatch writes the script. `timeout` is GNU coreutils' or busybox's
// (before busybox 1.30 it needs -t); a host with neither runs the commands
// without a per-command limit, bounded by the per-host one.
func buildBatch(nonce string, limit time.Duration, cmds []batchCmd) string {
	secs := int(limit / time.Second)
	if secs < 1 {
		secs = 1
	}
	var b strings.Builder
	b.WriteString(batchMagic + "\n")
	// The limit is chosen by a case rather than a variable expanded
	// unquoted, so a zsh login shell (which does not split words) runs
	// the script too.
	fmt.Fprintf(&b, "V=%s; M=0; if timeout 9 true 2>/dev/null; then M=1; elif timeout -t 9 true 2>/dev/null; then M=2; fi\n", nonce)
	fmt.Fprintf(&b, "q() { case $M in 1) timeout %d sh -c \"$1\";; 2) timeout -t %d sh -c \"$1\";; *) sh -c \"$1\";; esac; }\n", secs, secs)
	b.WriteString("exec 3>&1\n")
	b.WriteString(`p() { a=0; z=0; read a _ </proc/uptime; printf '@@%s B %s\n' "$V" "$1"; e=$(q "$2" 2>&1 1>&3 3>&- </dev/null); c=$?; read z _ </proc/uptime; printf '\n@@%s E %s %s %s %s\n' "$V" "$1" "$c" "$a" "$z"; [ -z "$e" ] || printf '@@%s S %s\n%.` + strconv.Itoa(maxBatchStderr) + `s\n' "$V" "$1" "$e"; } 2>/dev/null` + "\n")
	for _, c := range cmds {
		b.WriteString("p " + c.name + " " + shellQuoteAny(c.command) + "\n")
	}
	b.WriteString("true\n")
	return b.String()
}

// shellQuoteAny single-quotes s for sh, ending and reopening the quotes
// around each single quote.
func shellQuoteAny(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// parseBatch fills res from the framed output. Commands are found by name
// and in order; a command whose E marker is missing keeps errNotReached.
func parseBatch(out []byte, nonce string, cmds []batchCmd, res []cmdResult) {
	pre := []byte("@@" + nonce + " ")
	pos := 0
	for i, c := range cmds {
		begin := []byte("@@" + nonce + " B " + c.name + "\n")
		j := bytes.Index(out[pos:], begin)
		if j < 0 {
			continue
		}
		bodyStart := pos + j + len(begin)
		endMark := []byte("\n@@" + nonce + " E " + c.name + " ")
		k := bytes.Index(out[bodyStart:], endMark)
		if k < 0 {
			continue
		}
		body := out[bodyStart : bodyStart+k]
		lineStart := bodyStart + k + len(endMark)
		eol := bytes.IndexByte(out[lineStart:], '\n')
		if eol < 0 {
			eol = len(out) - lineStart
		}
		f := strings.Fields(string(out[lineStart : lineStart+eol]))
		pos = lineStart + eol
		if len(f) != 3 {
			continue
		}
		code, err := strconv.Atoi(f[0])
		if err != nil {
			continue
		}
		r := cmdResult{out: body, duration: uptimeDelta(f[1], f[2])}
		stderr := ""
		sMark := append(append([]byte{}, pre...), []byte("S "+c.name+"\n")...)
		if pos < len(out) && bytes.HasPrefix(out[pos+1:], sMark) {
			s := pos + 1 + len(sMark)
			e := bytes.Index(out[s:], append([]byte{'\n'}, pre...))
			if e < 0 {
				e = len(out) - s
			}
			stderr = strings.TrimRight(string(out[s:s+e]), "\n")
			pos = s + e
		}
		if code == 124 && stderr == "" {
			// coreutils' timeout exits 124 and says nothing.
			stderr = "timed out: the per-probe time limit ran out"
		}
		if code != 0 {
			r.err = &transport.ExitError{Code: code, Stderr: strings.TrimSpace(stderr)}
		}
		res[i] = r
	}
}

// uptimeDelta is the time between two /proc/uptime readings ("12345.67").
func uptimeDelta(a, b string) time.Duration {
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	if err1 != nil || err2 != nil || x <= 0 || y < x || y-x > 1e6 {
		return 0
	}
	return time.Duration((y - x) * float64(time.Second)).Round(10 * time.Millisecond)
}

// AnswerBatch answers a batch script the way a host's shell would, from
// recorded outputs: answer gives one catalogue command's stdout, stderr and
// exit status. It is for replays (the demo fleet, benchmarks, tests), which
// answer by exact command string. ok is false when script is not a batch.
func AnswerBatch(script string, answer func(command string) (stdout []byte, stderr string, code int)) (out []byte, ok bool) {
	rest, ok := strings.CutPrefix(script, batchMagic+"\n")
	if !ok {
		return nil, false
	}
	first, rest, _ := strings.Cut(rest, "\n")
	nonce, _, _ := strings.Cut(strings.TrimPrefix(first, "V="), ";")
	if nonce == "" || !strings.HasPrefix(first, "V=") {
		return nil, false
	}
	var b bytes.Buffer
	for _, line := range strings.Split(rest, "\n") {
		name, quoted, isProbe := strings.Cut(strings.TrimPrefix(line, "p "), " ")
		if !strings.HasPrefix(line, "p ") || !isProbe {
			continue
		}
		cmd, ok := shellUnquoteSingle(quoted)
		if !ok {
			return nil, false
		}
		stdout, stderr, code := answer(cmd)
		fmt.Fprintf(&b, "@@%s B %s\n", nonce, name)
		b.Write(stdout)
		fmt.Fprintf(&b, "\n@@%s E %s %d 1.00 1.00\n", nonce, name, code)
		if stderr = strings.TrimRight(stderr, "\n"); stderr != "" {
			fmt.Fprintf(&b, "@@%s S %s\n%s\n", nonce, name, truncate(stderr, maxBatchStderr))
		}
	}
	return b.Bytes(), true
}

// IsBatch reports whether command is a batch script (see AnswerBatch).
func IsBatch(command string) bool { return strings.HasPrefix(command, batchMagic+"\n") }

// shellUnquoteSingle undoes shellQuoteAny.
func shellUnquoteSingle(q string) (string, bool) {
	if len(q) < 2 || q[0] != '\'' || q[len(q)-1] != '\'' {
		return "", false
	}
	return strings.ReplaceAll(q[1:len(q)-1], `'\''`, "'"), true
}
