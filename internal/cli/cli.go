// Package cli wires Vigil's subcommands: serve, agent, admin, demo, version.
// Every flag can also be set from the environment as VIGIL_<FLAG> (dashes
// become underscores) and, where a command takes --config, from that YAML
// file; flags win over the environment, which wins over the file.
package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/vigil-project/vigil/internal/version"
)

// Execute runs the command line and returns the process exit code.
func Execute() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := NewRoot()
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "vigil:", err)
		return 1
	}
	return 0
}

// NewRoot builds the command tree (also used by tests and docs).
func NewRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "vigil",
		Short: "Agentless fleet inventory, vulnerability and compliance",
		Long: `Vigil inventories Linux hosts without installing anything on them.

One collector ('vigil agent') on a patch server logs into each host over SSH
with read-only credentials, runs a fixed catalogue of read-only probes and
pushes timestamped reports to the server ('vigil serve'), which stores every
snapshot and shows it in a web app and a REST API.

Try it: 'vigil demo' starts a server, an agent and a demo fleet.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version.String(),
	}
	root.AddCommand(newServeCmd(), newAgentCmd(), newAdminCmd(), newFeedsCmd(), newDemoCmd(), newVersionCmd())
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "vigil", version.String())
		},
	}
}

// applyEnvAndFile fills every flag the user did not set from VIGIL_<NAME>,
// then from the YAML file (keys are flag names with underscores).
func applyEnvAndFile(fs *pflag.FlagSet, file string) error {
	var fromFile map[string]any
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("config file: %w", err)
		}
		if err := yaml.Unmarshal(b, &fromFile); err != nil {
			return fmt.Errorf("config file %s: %w", file, err)
		}
	}
	var firstErr error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || firstErr != nil || f.Name == "config" || f.Name == "help" {
			return
		}
		key := strings.ReplaceAll(f.Name, "-", "_")
		if v, ok := os.LookupEnv("VIGIL_" + strings.ToUpper(key)); ok {
			if err := f.Value.Set(v); err != nil {
				firstErr = fmt.Errorf("VIGIL_%s: %w", strings.ToUpper(key), err)
			}
			return
		}
		if v, ok := fromFile[key]; ok {
			if err := f.Value.Set(fmt.Sprint(v)); err != nil {
				firstErr = fmt.Errorf("%s: %s: %w", file, key, err)
			}
		}
	})
	return firstErr
}

// newLogger returns a text logger on w at the given level.
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: use debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// newTextLogger returns a text logger on w at level.
func newTextLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
