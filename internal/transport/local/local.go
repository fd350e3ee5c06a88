// Package local runs probe commands on the machine the agent itself runs on,
// through /bin/sh, for the patch server's own inventory and for the demo.
package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"

	"github.com/vigil-project/vigil/internal/transport"
)

// Runner runs commands locally. Its zero value is ready to use.
type Runner struct{}

// Run runs command with sh -c, without a terminal or stdin.
func (r Runner) Run(ctx context.Context, command string) ([]byte, error) {
	return r.RunInput(ctx, command, nil)
}

// RunInput is Run with stdin fed to the command.
func (Runner) RunInput(ctx context.Context, command string, stdin []byte) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	// On timeout kill the whole process group: a child such as sleep would
	// otherwise keep the output pipe open and Run waiting.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &capped{buf: &stdout, max: transport.MaxOutput}, &capped{buf: &stderr, max: 64 << 10}
	err := cmd.Run()
	if ctx.Err() != nil {
		return nil, &transport.ExitError{Code: -1, Stderr: "command timed out: " + ctx.Err().Error()}
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return stdout.Bytes(), &transport.ExitError{Code: exit.ExitCode(), Stderr: string(bytes.TrimSpace(stderr.Bytes()))}
	}
	if err != nil {
		return nil, fmt.Errorf("run local command: %w", err)
	}
	return stdout.Bytes(), nil
}

// Close does nothing: there is no connection.
func (Runner) Close() error { return nil }

type capped struct {
	buf *bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if c.buf.Len()+len(p) > c.max {
		return 0, fmt.Errorf("output larger than %d bytes", c.max)
	}
	return c.buf.Write(p)
}
