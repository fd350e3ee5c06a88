// Package transport runs the agent's read-only probe commands on a host and
// hands back their output. Implementations: sshx (remote hosts over SSH) and
// local (the machine the agent runs on).
package transport

import (
	"context"
	"fmt"
)

// Runner runs one command on a host and returns its standard output.
//
// A command that ran and exited non-zero returns *ExitError (the host is
// fine, the probe is not); any other error means the session itself failed
// and the scan of that host should stop.
type Runner interface {
	Run(ctx context.Context, command string) ([]byte, error)
}

// InputRunner is a Runner that can also feed a command's standard input.
// Secrets a probe must hand to a program on the host (a database login)
// travel this way: never in the command line, which other users of the
// host can read in the process list.
type InputRunner interface {
	Runner
	RunInput(ctx context.Context, command string, stdin []byte) ([]byte, error)
}

// Session is a Runner bound to one open connection.
type Session interface {
	Runner
	Close() error
}

// ExitError reports a command that ran and failed.
type ExitError struct {
	Code   int
	Stderr string
}

func (e *ExitError) Error() string {
	if e.Stderr == "" {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return fmt.Sprintf("exit status %d: %s", e.Code, e.Stderr)
}

// MaxOutput bounds what one command may print before it is cut off, so a
// hostile or broken host cannot exhaust the agent's memory.
const MaxOutput = 64 << 20
