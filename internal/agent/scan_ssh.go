package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/vigil-project/vigil/internal/collect"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport"
	"github.com/vigil-project/vigil/internal/transport/sshx"
	"github.com/vigil-project/vigil/internal/vaultref"
)

// runKey carries the Vault resolver of one scan run in the context, so that
// every host of the run shares one Vault login and one read per secret.
type runKey struct{}

type runState struct {
	vault *vaultref.Resolver
	err   error // the resolver could not be built
}

// startRun prepares what a scan run shares and returns the context that
// carries it and the function that ends it. Nothing it holds outlives the
// run: the next run logs into Vault and reads the secrets again.
func (a *Agent) startRun(ctx context.Context) (context.Context, func()) {
	if !a.cfg.Vault.Enabled() {
		return ctx, func() {}
	}
	st := &runState{}
	st.vault, st.err = vaultref.New(*a.cfg.Vault)
	return context.WithValue(ctx, runKey{}, st), func() {
		// A fresh context: the run's may be cancelled, and revoking the
		// login token is still worth a try.
		cctx, cancel := context.WithTimeout(context.Background(), a.cfg.Vault.Timeout)
		defer cancel()
		st.vault.Close(cctx)
	}
}

// resolveCredential replaces the Vault references of one credential (a
// SAP database login) with their secrets, in the run's Vault session.
func (a *Agent) resolveCredential(ctx context.Context, c *inventory.Credential) (*inventory.Credential, error) {
	if !vaultref.HasRefs(c) {
		return c, nil
	}
	h, err := a.resolveHost(ctx, inventory.HostSpec{Credential: c})
	if err != nil {
		return nil, err
	}
	return h.Credential, nil
}

// resolveHost returns h with the Vault references in its credential and
// its jump host's credential replaced by their secrets. h itself is not
// changed, so the references stay in the agent's copy of its config.
func (a *Agent) resolveHost(ctx context.Context, h inventory.HostSpec) (inventory.HostSpec, error) {
	needs := vaultref.HasRefs(h.Credential) || (h.Jump != nil && vaultref.HasRefs(h.Jump.Credential))
	if !needs {
		return h, nil
	}
	st, _ := ctx.Value(runKey{}).(*runState)
	if st == nil && a.cfg.Vault.Enabled() {
		// ScanHost or checkHost called on their own: a run of one host.
		var end func()
		ctx, end = a.startRun(ctx)
		defer end()
		st, _ = ctx.Value(runKey{}).(*runState)
	}
	var r *vaultref.Resolver
	if st != nil {
		if st.err != nil {
			return h, fmt.Errorf("vault: %w", st.err)
		}
		r = st.vault
	}
	var err error
	if h.Credential, err = r.Resolve(ctx, h.Credential); err != nil {
		return h, err
	}
	if h.Jump != nil {
		j := *h.Jump
		if j.Credential, err = r.Resolve(ctx, j.Credential); err != nil {
			return h, fmt.Errorf("jump host: %w", err)
		}
		h.Jump = &j
	}
	return h, nil
}

// dialSSH resolves the host's Vault references and logs in, through its
// jump host when it has one. On failure it returns the report's error kind.
func (a *Agent) dialSSH(ctx context.Context, h inventory.HostSpec) (*sshx.Session, string, error) {
	h, err := a.resolveHost(ctx, h)
	if err != nil {
		return nil, inventory.ErrKindCredential, err
	}
	opts := sshx.Options{Timeout: a.cfg.ConnectTimeout}
	if a.cfg.SSHAgent {
		opts.AgentSocket = os.Getenv("SSH_AUTH_SOCK")
	}
	sess, err := sshx.Dial(ctx, h, opts)
	if err != nil {
		kind := inventory.ErrKindUnreachable
		var se *sshx.Error
		if errors.As(err, &se) {
			kind = se.Kind
		}
		return nil, kind, err
	}
	return sess, "", nil
}

// PrivilegedProbe is a probe that only runs through `sudo -n` on hosts
// that allow sudo.
type PrivilegedProbe struct {
	Name    string
	Command string // what sudo runs as root (without "sudo -n")
}

// privilegedProbes lists them; a variable so tests can give their own.
var privilegedProbes = func() []PrivilegedProbe {
	var out []PrivilegedProbe
	for _, p := range collect.PrivilegedProbes() {
		out = append(out, PrivilegedProbe{Name: p.Name, Command: p.RootCommand})
	}
	return out
}

// checkSudo tells which privileged probes sudo would refuse on this host:
// least-privilege discovery for 'vigil agent check'. It never prompts:
// every call is `sudo -n`, which fails rather than asks for a password.
func checkSudo(ctx context.Context, r transport.Runner) string {
	if _, err := r.Run(ctx, "sudo -n true"); err == nil {
		return "sudo: allowed"
	}
	probes := privilegedProbes()
	if len(probes) == 0 {
		return "sudo: denied (sudo -n true failed: needs NOPASSWD in sudoers; see docs/privileges.md)"
	}
	// Without blanket NOPASSWD, sudoers may still allow each probe's
	// command: `sudo -n -l <command>` says so without running it.
	var denied []string
	for _, p := range probes {
		if _, err := r.Run(ctx, "sudo -n -l "+p.Command); err != nil {
			denied = append(denied, p.Name)
		}
	}
	if len(denied) == 0 {
		return fmt.Sprintf("sudo: allowed for all %d privileged probes", len(probes))
	}
	return "sudo: denied (needs NOPASSWD for: " + strings.Join(denied, ", ") + ")"
}

// sshNotes are the extra lines of 'vigil agent check' for an SSH host.
func (a *Agent) sshNotes(ctx context.Context, h inventory.HostSpec, sess *sshx.Session) []string {
	var notes []string
	if h.Jump != nil {
		port := h.Jump.Port
		if port == 0 {
			port = 22
		}
		notes = append(notes, fmt.Sprintf("through jump host %s:%d %s", h.Jump.Address, port, fingerprint(sess.JumpHostKey())))
	}
	if h.Sudo {
		notes = append(notes, checkSudo(ctx, sess))
	}
	return notes
}

// CheckVault logs into the configured Vault and out again, for 'vigil
// agent check'. It returns "" when no vault block is configured.
func (a *Agent) CheckVault(ctx context.Context) (string, error) {
	if !a.cfg.Vault.Enabled() {
		return "", nil
	}
	v := a.cfg.Vault
	r, err := vaultref.New(*v)
	if err != nil {
		return "", err
	}
	defer r.Close(context.WithoutCancel(ctx))
	if err := r.Login(ctx); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s (%s login)", v.Address, v.Auth.Method), nil
}
