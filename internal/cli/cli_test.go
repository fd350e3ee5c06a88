package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestConfigPrecedence: a flag beats VIGIL_*, which beats the --config file.
func TestConfigPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "serve.yaml")
	os.WriteFile(file, []byte("listen: file:1\ndata: /from/file\nlog_level: warn\n"), 0o600)
	tests := []struct {
		name   string
		args   []string
		env    map[string]string
		listen string
		data   string
	}{
		{"file only", nil, nil, "file:1", "/from/file"},
		{"env beats file", nil, map[string]string{"VIGIL_LISTEN": "env:2"}, "env:2", "/from/file"},
		{"flag beats env", []string{"--listen", "flag:3"}, map[string]string{"VIGIL_LISTEN": "env:2", "VIGIL_DATA": "/from/env"}, "flag:3", "/from/env"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var listen, data, level string
			cmd := &cobra.Command{Use: "x", RunE: func(cmd *cobra.Command, _ []string) error {
				return applyEnvAndFile(cmd.Flags(), file)
			}}
			cmd.Flags().StringVar(&listen, "listen", "default", "")
			cmd.Flags().StringVar(&data, "data", "default", "")
			cmd.Flags().StringVar(&level, "log-level", "info", "")
			cmd.SetArgs(tc.args)
			if err := cmd.Execute(); err != nil {
				t.Fatal(err)
			}
			if listen != tc.listen || data != tc.data || level != "warn" {
				t.Fatalf("listen=%q data=%q level=%q", listen, data, level)
			}
		})
	}
}

// TestHelp: every command documents itself.
func TestHelp(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Short == "" {
			t.Errorf("%q has no short help", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	root := NewRoot()
	walk(root)
	var out strings.Builder
	root.SetOut(&out)
	root.SetArgs([]string{"agent", "scan", "--help"})
	if err := root.Execute(); err != nil || !strings.Contains(out.String(), "--once") {
		t.Fatalf("agent scan --help: %v\n%s", err, out.String())
	}
}
