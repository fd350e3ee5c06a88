package cli

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-project/vigil/internal/agent"
	"github.com/vigil-project/vigil/internal/demo"
	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/sshkey"
)

func newDemoCmd() *cobra.Command {
	var f serverFlags
	var listen string
	var keep bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a server, an agent and a demo fleet on this machine",
		Long: `Start a complete Vigil on this machine, with no setup:

  - the server on a fresh SQLite data directory (a temporary one unless --data),
  - an agent with its own key, running in this process,
  - a demo fleet: this machine (local transport) and three SSH servers on
    127.0.0.1 that replay recorded outputs of Debian 12, AlmaLinux 9 and
    Alpine 3.18 over real SSH (labelled "demo" in the web app), and one
    Windows Server 2022 served over WinRM (HTTPS, NTLM) from outputs
    constructed from documented formats,

then scan the fleet once and print the URL and the login. The agent keeps
scanning on the default hourly schedule until you stop it with Ctrl-C.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnvAndFile(cmd.Flags(), ""); err != nil {
				return err
			}
			if !cmd.Flags().Changed("data") && os.Getenv("VIGIL_DATA") == "" {
				dir, err := os.MkdirTemp("", "vigil-demo-")
				if err != nil {
					return err
				}
				f.dataDir = dir
				if !keep {
					defer os.RemoveAll(dir)
				}
			}
			return runDemo(cmd, &f, listen)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "address the web app and API listen on")
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the temporary data directory on exit")
	return cmd
}

func runDemo(cmd *cobra.Command, f *serverFlags, listen string) error {
	ctx, cancel := context.WithCancel(cmd.Context())
	defer cancel()
	out := cmd.OutOrStdout()
	if os.Getenv("VIGIL_ADMIN_PASSWORD") == "" {
		// The demo prints its login; a fixed, obvious password is fine for a
		// throwaway local instance and saves copying a random one.
		os.Setenv("VIGIL_ADMIN_PASSWORD", "vigil-demo")
	}
	// The demo prints its login below; the bootstrap message would only
	// repeat it.
	b, err := openBackend(ctx, f, cmd.ErrOrStderr(), io.Discard)
	if err != nil {
		return err
	}
	defer b.Close()

	ready := make(chan string, 1)
	errc := make(chan error, 1)
	go func() { errc <- serveHTTP(ctx, b, listen, "", "", false, out, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-errc:
		return err
	}

	if err := importDemoFeeds(ctx, b, f.dataDir); err != nil {
		return err
	}
	fleet, err := startDemoFleet(ctx, b)
	if err != nil {
		return err
	}
	defer fleet.close()

	ws, err := b.store.FirstWorkspace(ctx)
	if err != nil {
		return err
	}
	_, key, err := b.svc.CreateAgentKey(ctx, ws.ID, "demo-agent")
	if err != nil {
		return err
	}
	cfg := &agent.Config{APIURL: "http://" + addr, APIKey: key, SpoolDir: filepath.Join(f.dataDir, "agent-spool"), LogLevel: f.logLevel}
	if err := finishAgentConfig(cfg); err != nil {
		return err
	}
	a, err := agent.New(cfg, b.log.With("component", "agent"))
	if err != nil {
		return err
	}
	if err := assignDemoBaseline(ctx, b); err != nil {
		return err
	}
	// The first scan places each host in its groups; the second collects
	// the items the checks of those groups need, as an hourly agent would
	// from its second run on.
	if _, err := a.ScanOnce(ctx); err != nil {
		return fmt.Errorf("demo scan: %w", err)
	}
	stats, err := a.ScanOnce(ctx)
	if err != nil {
		return fmt.Errorf("demo scan: %w", err)
	}
	fmt.Fprintf(out, `
Vigil demo is running.

  Web app:  http://%s/
  Login:    %s / %s
  Data:     %s
  Scanned:  %d hosts (%d ok, %d failed) in %s

The demo fleet is this machine plus three recorded hosts served over SSH and
one constructed Windows host served over WinRM, on 127.0.0.1. Press Ctrl-C
to stop.
`, addr, service.AdminLogin, os.Getenv("VIGIL_ADMIN_PASSWORD"), f.dataDir, stats.Hosts, stats.OK, stats.Failed, stats.Duration.Round(time.Millisecond))

	go func() {
		// The agent's default poll: "Run now" in the web app reaches it in seconds.
		if err := a.Run(ctx, agent.DefaultPollInterval); err != nil && ctx.Err() == nil {
			b.log.Error("demo agent stopped", "err", err)
		}
	}()
	// On Ctrl-C the server shuts down (requests, then the job queue) before
	// the deferred close of the store: River must not outlive its database.
	return <-errc
}

// finishAgentConfig applies the defaults LoadConfig would.
func finishAgentConfig(cfg *agent.Config) error {
	cfg.Concurrency = max(cfg.Concurrency, agent.DefaultConcurrency)
	cfg.HostTimeout, cfg.ProbeTimeout, cfg.ConnectTimeout = agent.DefaultHostTimeout, agent.DefaultProbeTimeout, agent.DefaultConnectTimeout
	if cfg.PollInterval == 0 {
		cfg.PollInterval = agent.DefaultPollInterval
	}
	if cfg.LogLevel == "" {
		cfg.LogLevel = "info"
	}
	return cfg.Validate()
}

type demoFleet struct {
	servers []*demo.ReplayServer
	windows []*demo.WindowsReplay
}

func (d *demoFleet) close() {
	for _, s := range d.servers {
		s.Close()
	}
	for _, w := range d.windows {
		w.Close()
	}
}

// startDemoFleet starts the replay servers and registers them, plus this
// machine over the local transport, as demo hosts.
func startDemoFleet(ctx context.Context, b *backend) (*demoFleet, error) {
	ws, err := b.store.FirstWorkspace(ctx)
	if err != nil {
		return nil, err
	}
	admin, err := b.store.GetUserByLogin(ctx, service.AdminLogin)
	if err != nil {
		return nil, err
	}
	actor := service.Actor{UserID: admin.ID, Login: admin.Login, WorkspaceID: ws.ID, Role: domain.RoleAdmin}
	// demo-alma9 replays an SAP application server's discovery (PRD on
	// HANA): the SAP pages have something to show.
	if err := b.svc.SetSAPInScope(ctx, actor, true); err != nil {
		return nil, err
	}
	fleet := &demoFleet{}
	add := func(in domain.HostInput) error {
		h, err := b.svc.CreateHost(ctx, actor, in)
		if err != nil {
			return err
		}
		h.Demo = true
		return b.store.UpdateHost(ctx, h)
	}
	localName, local := "this-machine", inventory.TransportLocal
	if err := add(domain.HostInput{Name: &localName, Transport: &local}); err != nil {
		return nil, err
	}
	pw, err := randomDemoPassword()
	if err != nil {
		return nil, err
	}
	for _, name := range demo.Recordings() {
		rec, err := demo.LoadRecording(name)
		if err != nil {
			fleet.close()
			return nil, err
		}
		rs, err := demo.StartReplay(rec, "127.0.0.1:0", "vigil-scan", pw)
		if err != nil {
			fleet.close()
			return nil, err
		}
		fleet.servers = append(fleet.servers, rs)
		hostName, addr, port, user, ssh := "demo-"+name, "127.0.0.1", rs.Port(), rs.User, inventory.TransportSSH
		if err := add(domain.HostInput{Name: &hostName, Address: &addr, Port: &port, Transport: &ssh, Username: &user, Password: &pw}); err != nil {
			fleet.close()
			return nil, err
		}
		b.log.Debug("demo host serving", "host", hostName, "addr", rs.Addr, "host_key", sshkey.Fingerprint(sshkey.Marshal(rs.HostKey)))
	}
	for _, name := range demo.WindowsRecordings() {
		wr, err := demo.StartWindowsReplay(name, "vigil-scan", pw)
		if err != nil {
			fleet.close()
			return nil, err
		}
		fleet.windows = append(fleet.windows, wr)
		hostName, addr, port, user, winrm := "demo-"+name, "127.0.0.1", wr.Port, wr.User, inventory.TransportWinRM
		opts := &domain.HostOptions{WinRM: &inventory.WinRMOptions{HTTPS: true, CAPEM: wr.CAPEM}}
		if err := add(domain.HostInput{Name: &hostName, Address: &addr, Port: &port, Transport: &winrm, Username: &user, Password: &pw, Options: opts}); err != nil {
			fleet.close()
			return nil, err
		}
	}
	return fleet, nil
}

func randomDemoPassword() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return fmt.Sprintf("%x", b), nil
}

// importDemoFeeds imports the bundled sample vulnerability data (real
// AlmaLinux 9 advisories, NVD records, the KEV catalogue and a sample of
// SAP Security Notes), so that the demo fleet shows real findings without
// network access.
func importDemoFeeds(ctx context.Context, b *backend, dataDir string) error {
	bundle, err := demo.WriteFeedBundle(filepath.Join(dataDir, "demo-feeds"))
	if err != nil {
		return err
	}
	im := b.importer()
	if _, err := im.ImportNVD(ctx, bundle.NVD); err != nil {
		return err
	}
	if _, err := im.ImportKEV(ctx, bundle.KEV); err != nil {
		return err
	}
	if _, err := im.ImportSAP(ctx, bundle.SAP); err != nil {
		return err
	}
	_, err = im.ImportOSV(ctx, bundle.OSV)
	return err
}

// assignDemoBaseline creates a dynamic group of every Linux host with the
// built-in Linux baseline, and one of every Windows host with the Windows
// baseline.
func assignDemoBaseline(ctx context.Context, b *backend) error {
	ws, err := b.store.FirstWorkspace(ctx)
	if err != nil {
		return err
	}
	actor := service.Actor{WorkspaceID: ws.ID, Role: domain.RoleAdmin, Login: "demo"}
	name, desc := "Linux servers", "Every host whose scan found a Linux distribution."
	expr := `os.family in ["debian", "redhat", "suse", "alpine", "linux"]`
	g, err := b.svc.SaveGroup(ctx, actor, 0, service.GroupInput{Name: &name, Description: &desc, Expression: &expr})
	if err != nil {
		return err
	}
	if err := b.svc.SetAssignments(ctx, actor, g.ID, []domain.Assignment{{Kind: domain.AssignPack, Ref: "linux-baseline"}}); err != nil {
		return err
	}
	name, desc, expr = "Windows servers", "Every host whose scan found Windows.", `os.family == "windows"`
	if g, err = b.svc.SaveGroup(ctx, actor, 0, service.GroupInput{Name: &name, Description: &desc, Expression: &expr}); err != nil {
		return err
	}
	return b.svc.SetAssignments(ctx, actor, g.ID, []domain.Assignment{{Kind: domain.AssignPack, Ref: "windows-baseline"}})
}
