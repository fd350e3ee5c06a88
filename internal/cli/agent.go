package cli

import (
	"errors"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-project/vigil/internal/agent"
)

func newAgentCmd() *cobra.Command {
	var configFile string
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run the collector that scans hosts and reports to the server",
		Long: `The agent runs on one machine inside your network (the patch server). It
pulls its host list and schedule from the server, logs into each host over
SSH with read-only credentials, runs a fixed catalogue of read-only probes,
and pushes the reports over HTTPS. Reports are spooled to disk until the
server has stored them.

Configuration comes from config.yaml (--config), then VIGIL_* environment
variables (VIGIL_API_URL, VIGIL_API_KEY, VIGIL_API_KEY_FILE, VIGIL_CA_FILE,
VIGIL_SPOOL_DIR, VIGIL_CONCURRENCY, VIGIL_LOG_LEVEL, VIGIL_HOST_TIMEOUT,
VIGIL_PROBE_TIMEOUT, VIGIL_CONNECT_TIMEOUT, VIGIL_SSH_AGENT), which override the file.

ssh_agent: true offers the keys of the ssh-agent at SSH_AUTH_SOCK after each
credential's own key (docs/ssh.md). A vault: block lets credential fields be
references vault:<path>#<key>, resolved at scan time and never kept between
runs (docs/vault.md).`,
	}
	cmd.PersistentFlags().StringVar(&configFile, "config", defaultAgentConfig(), "agent config file (YAML); may be empty to use the environment only")
	load := func(cmd *cobra.Command) (*agent.Agent, *agent.Config, error) {
		cfg, err := agent.LoadConfig(configFile)
		if err != nil {
			return nil, nil, err
		}
		level, _ := agent.ParseLevel(cfg.LogLevel)
		log := newTextLogger(cmd.ErrOrStderr(), level)
		a, err := agent.New(cfg, log)
		return a, cfg, err
	}

	var poll time.Duration
	run := &cobra.Command{
		Use:   "run",
		Short: "Run as a service: scan on the server's schedule, push, retry",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, cfg, err := load(cmd)
			if err != nil {
				return err
			}
			if poll == 0 {
				poll = cfg.PollInterval
			}
			err = a.Run(cmd.Context(), poll)
			if errors.Is(err, cmd.Context().Err()) {
				return nil
			}
			return err
		},
	}
	run.Flags().DurationVar(&poll, "poll", 0, "how often to pull the config (cheap: 304 when unchanged); default poll_interval from config.yaml (10s)")

	var once bool
	scan := &cobra.Command{
		Use:   "scan",
		Short: "Scan every assigned host now and push the reports",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !once {
				return errors.New("use --once: 'vigil agent scan --once' scans and exits; 'vigil agent run' is the service")
			}
			a, _, err := load(cmd)
			if err != nil {
				return err
			}
			stats, err := a.ScanOnce(cmd.Context())
			fmt.Fprintf(cmd.OutOrStdout(), "scanned %d hosts: %d ok, %d failed in %s\n", stats.Hosts, stats.OK, stats.Failed, stats.Duration.Round(time.Millisecond))
			if err != nil {
				entries, _ := a.Spool().List()
				return fmt.Errorf("%w (%d reports kept in %s for the next push)", err, len(entries), a.Spool().Dir())
			}
			return nil
		},
	}
	scan.Flags().BoolVar(&once, "once", false, "scan once and exit")

	check := &cobra.Command{
		Use:   "check",
		Short: "Validate the config, reach the server, and try a login to each host",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			a, cfg, err := load(cmd)
			if err != nil {
				fmt.Fprintln(out, "config:  FAIL", err)
				return err
			}
			fmt.Fprintln(out, "config:  ok")
			rc, err := a.RefreshConfig(cmd.Context())
			if err != nil {
				fmt.Fprintf(out, "server:  FAIL %s: %v\n", cfg.APIURL, err)
				return err
			}
			fmt.Fprintf(out, "server:  ok %s (agent %d, %d hosts, every %s from %s UTC)\n", cfg.APIURL, rc.AgentID, len(rc.Hosts), rc.Schedule.Interval(), rc.Schedule.Anchor)
			// A Vault that refuses the agent fails only the hosts with
			// references, so this line informs rather than stops the check.
			if what, err := a.CheckVault(cmd.Context()); err != nil {
				fmt.Fprintf(out, "vault:   FAIL %v\n", err)
			} else if what != "" {
				fmt.Fprintf(out, "vault:   ok %s\n", what)
			}
			res := a.CheckHosts(cmd.Context(), rc.Hosts)
			tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "HOST\tADDRESS\tRESULT\tTIME\tDETAIL")
			failed := 0
			for _, r := range res {
				verdict := "ok"
				if !r.OK {
					verdict, failed = "FAIL", failed+1
				}
				detail := r.Detail
				if r.Fingerprint != "" {
					detail += " " + r.Fingerprint
				}
				for _, n := range r.Notes {
					detail += "; " + n
				}
				fmt.Fprintf(tw, "%s\t%s:%d\t%s\t%s\t%s\n", r.Host.Name, r.Host.Address, r.Host.Port, verdict, r.Duration.Round(time.Millisecond), detail)
			}
			tw.Flush()
			if failed > 0 {
				return fmt.Errorf("%d of %d hosts failed", failed, len(res))
			}
			return nil
		},
	}
	cmd.AddCommand(run, scan, check)
	return cmd
}

func defaultAgentConfig() string {
	const p = "/etc/vigil/agent.yaml"
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}
