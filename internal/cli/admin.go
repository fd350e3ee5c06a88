package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/service"
)

func newAdminCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Administer a server's data directly (keys, tokens)",
		Long: `Administer a Vigil server's database directly, on the machine that holds it.

These commands open the same database as 'vigil serve' (same --data and --db)
and may run while the server is running.`,
	}
	cmd.AddCommand(newAgentKeyCmd(), newAPITokenCmd())
	return cmd
}

func newAgentKeyCmd() *cobra.Command {
	var f serverFlags
	var name string
	cmd := &cobra.Command{
		Use:   "agent-key",
		Short: "Register an agent and print its API key (last line of output)",
		Long: `Register an agent in the default workspace and print its API key.

The key is shown once, on the last line, and only its hash is stored. Put it
in the agent's config.yaml (api_key or api_key_file) or VIGIL_API_KEY.`,
		Args: cobra.NoArgs,
		RunE: inDefaultWorkspace(&f, func(cmd *cobra.Command, b *backend, ws *domain.Workspace) error {
			ag, key, err := b.svc.CreateAgentKey(cmd.Context(), ws.ID, name)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "Agent %q (id %d) registered in workspace %q. Its key, shown once:\n", ag.Name, ag.ID, ws.Name)
			fmt.Fprintln(cmd.OutOrStdout(), key)
			return nil
		}),
	}
	f.register(cmd)
	cmd.Flags().StringVar(&name, "name", "", "agent name, for example the patch server's host name (required)")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func newAPITokenCmd() *cobra.Command {
	var f serverFlags
	var name, login string
	cmd := &cobra.Command{
		Use:   "api-token",
		Short: "Create a REST API token for a user (default admin) and print it (last line)",
		Long: `Create a REST API token for a user in the default workspace and print it.

The token is shown once, on the last line, and only its hash is stored. Send
it as 'Authorization: Bearer <token>' to /api/v1/.`,
		Args: cobra.NoArgs,
		RunE: inDefaultWorkspace(&f, func(cmd *cobra.Command, b *backend, ws *domain.Workspace) error {
			u, err := b.store.GetUserByLogin(cmd.Context(), login)
			if err != nil {
				if domain.ErrorCode(err) == domain.ENOTFOUND {
					return fmt.Errorf("no user %q", login)
				}
				return err
			}
			tok, err := b.svc.CreateAPIToken(cmd.Context(), ws.ID, u.ID, name)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "API token %q for user %q in workspace %q, shown once:\n", name, u.Login, ws.Name)
			fmt.Fprintln(cmd.OutOrStdout(), tok)
			return nil
		}),
	}
	f.register(cmd)
	cmd.Flags().StringVar(&name, "name", "", "token name, to recognise it later (required)")
	cmd.Flags().StringVar(&login, "user", service.AdminLogin, "login of the user the token acts as")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

// inDefaultWorkspace opens the server's data and runs fn in the default
// workspace. Messages go to stderr so that stdout holds only the secret.
func inDefaultWorkspace(f *serverFlags, fn func(*cobra.Command, *backend, *domain.Workspace) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		if err := applyEnvAndFile(cmd.Flags(), ""); err != nil {
			return err
		}
		b, err := openBackend(cmd.Context(), f, cmd.ErrOrStderr(), cmd.ErrOrStderr())
		if err != nil {
			return err
		}
		defer b.Close()
		ws, err := b.store.FirstWorkspace(cmd.Context())
		if err != nil {
			return err
		}
		return fn(cmd, b, ws)
	}
}
