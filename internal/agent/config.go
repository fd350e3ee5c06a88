package agent

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-project/vigil/internal/collect"
	"github.com/vigil-project/vigil/internal/vaultref"
)

// Config is the agent's local configuration (config.yaml). Every field can
// also come from the environment (VIGIL_API_URL, VIGIL_API_KEY, ...), which
// overrides the file; command-line flags override both.
type Config struct {
	APIURL      string `yaml:"api_url"`
	APIKey      string `yaml:"api_key"`
	APIKeyFile  string `yaml:"api_key_file"`
	CAFile      string `yaml:"ca_file"`
	SpoolDir    string `yaml:"spool_dir"`
	Concurrency int    `yaml:"concurrency"`
	LogLevel    string `yaml:"log_level"`
	// HostTimeout bounds one host's whole scan; ProbeTimeout one command.
	HostTimeout  time.Duration `yaml:"host_timeout"`
	ProbeTimeout time.Duration `yaml:"probe_timeout"`
	// ConnectTimeout bounds TCP connect, SSH handshake and login.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// AllowedFiles extends the built-in list of files whose content
	// compliance checks may read (collect.BuiltinAllowedFiles). Only this
	// local config can extend it, never the server. Absolute, clean paths.
	AllowedFiles []string `yaml:"allowed_files"`
	// SSHAgent offers the keys of the ssh-agent at SSH_AUTH_SOCK to every
	// SSH host and jump host, after the credential's own key. Off by
	// default: an agent may hold keys meant for other machines.
	SSHAgent bool `yaml:"ssh_agent"`
	// Vault resolves credential fields written as vault:<path>#<key> at
	// scan time (docs/vault.md). Absent: such references fail their host.
	Vault *vaultref.Config `yaml:"vault"`
	// PollInterval is how often the agent asks the server for its config:
	// how soon it sees a "Run now" or a changed host. An unchanged config
	// costs one 304.
	PollInterval time.Duration `yaml:"poll_interval"`
}

// Defaults applied to fields left empty.
const (
	DefaultConcurrency    = 20
	DefaultSpoolDir       = "/var/lib/vigil-agent/spool"
	DefaultHostTimeout    = 5 * time.Minute
	DefaultProbeTimeout   = 2 * time.Minute
	DefaultConnectTimeout = 15 * time.Second
	DefaultPollInterval   = 10 * time.Second
	MinPollInterval       = time.Second
)

// envPrefix is prepended to the upper-cased YAML key for env overrides.
const envPrefix = "VIGIL_"

// LoadConfig reads path (which may be empty: environment only), applies the
// environment, fills defaults and validates. It refuses a world-readable
// file that holds the API key: anyone on the patch server could read it.
func LoadConfig(path string) (*Config, error) {
	c := &Config{}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("agent config: %w", err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		// An empty file decodes as io.EOF: that is an empty config.
		if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("agent config %s: %w", path, err)
		}
		if c.APIKey != "" {
			if err := checkPrivate(path); err != nil {
				return nil, err
			}
		}
	}
	if err := c.applyEnv(os.LookupEnv); err != nil {
		return nil, err
	}
	return c, c.finish()
}

// checkPrivate refuses files others can read.
func checkPrivate(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("agent config: %w", err)
	}
	if st.Mode().Perm()&0o004 != 0 {
		return fmt.Errorf("%s holds an API key and is readable by every user (mode %v): run 'chmod 600 %s' (or 640 with a group for the agent), or move the key to api_key_file", path, st.Mode().Perm(), path)
	}
	return nil
}

func (c *Config) applyEnv(lookup func(string) (string, bool)) error {
	str := func(key string, dst *string) {
		if v, ok := lookup(envPrefix + key); ok {
			*dst = v
		}
	}
	str("API_URL", &c.APIURL)
	str("API_KEY", &c.APIKey)
	str("API_KEY_FILE", &c.APIKeyFile)
	str("CA_FILE", &c.CAFile)
	str("SPOOL_DIR", &c.SpoolDir)
	str("LOG_LEVEL", &c.LogLevel)
	if v, ok := lookup(envPrefix + "ALLOWED_FILES"); ok {
		c.AllowedFiles = nil
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				c.AllowedFiles = append(c.AllowedFiles, f)
			}
		}
	}
	if v, ok := lookup(envPrefix + "SSH_AGENT"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("VIGIL_SSH_AGENT: %q is not true or false", v)
		}
		c.SSHAgent = b
	}
	if v, ok := lookup(envPrefix + "CONCURRENCY"); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("VIGIL_CONCURRENCY: %q is not a number", v)
		}
		c.Concurrency = n
	}
	for key, dst := range map[string]*time.Duration{"HOST_TIMEOUT": &c.HostTimeout, "PROBE_TIMEOUT": &c.ProbeTimeout, "CONNECT_TIMEOUT": &c.ConnectTimeout, "POLL_INTERVAL": &c.PollInterval} {
		if v, ok := lookup(envPrefix + key); ok {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("VIGIL_%s: %q is not a duration like 90s or 5m", key, v)
			}
			*dst = d
		}
	}
	return nil
}

// finish reads the key file, applies defaults and validates.
func (c *Config) finish() error {
	if c.APIKey == "" && c.APIKeyFile != "" {
		if err := checkPrivate(c.APIKeyFile); err != nil {
			return err
		}
		b, err := os.ReadFile(c.APIKeyFile)
		if err != nil {
			return fmt.Errorf("api_key_file: %w", err)
		}
		c.APIKey = strings.TrimSpace(string(b))
	}
	if c.SpoolDir == "" {
		c.SpoolDir = DefaultSpoolDir
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.HostTimeout == 0 {
		c.HostTimeout = DefaultHostTimeout
	}
	if c.ProbeTimeout == 0 {
		c.ProbeTimeout = DefaultProbeTimeout
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.PollInterval == 0 {
		c.PollInterval = DefaultPollInterval
	}
	return c.Validate()
}

// Validate reports the first problem with the configuration.
func (c *Config) Validate() error {
	if c.APIURL == "" {
		return errors.New("api_url is required (config.yaml or VIGIL_API_URL)")
	}
	u, err := url.Parse(c.APIURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("api_url %q must be an http(s) URL such as https://vigil.example.com", c.APIURL)
	}
	if c.APIKey == "" {
		return errors.New("api_key is required (config.yaml, api_key_file or VIGIL_API_KEY); create one with 'vigil admin agent-key'")
	}
	if c.Concurrency < 1 || c.Concurrency > 1000 {
		return fmt.Errorf("concurrency must be between 1 and 1000, got %d", c.Concurrency)
	}
	if c.PollInterval < MinPollInterval {
		return fmt.Errorf("poll_interval must be at least %s, got %s", MinPollInterval, c.PollInterval)
	}
	if _, err := ParseLevel(c.LogLevel); err != nil {
		return err
	}
	for _, f := range c.AllowedFiles {
		// The same rule the agent applies to every file item, so a path
		// that could never be served is reported here rather than per scan.
		if err := collect.CheckItemPath(f); err != nil {
			return fmt.Errorf("allowed_files: %w (give absolute, clean paths)", err)
		}
	}
	if c.SSHAgent && os.Getenv("SSH_AUTH_SOCK") == "" {
		return errors.New("ssh_agent: true, but SSH_AUTH_SOCK is not set in the agent's environment (point it at the ssh-agent socket, or set ssh_agent: false)")
	}
	if c.Vault != nil {
		if err := c.Vault.Validate(); err != nil {
			return err
		}
	}
	if c.CAFile != "" {
		if _, err := os.Stat(c.CAFile); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("ca_file %s does not exist", c.CAFile)
		}
	}
	return nil
}

// ParseLevel turns a log_level into a slog level.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log_level %q: use debug, info, warn or error", s)
	}
	return l, nil
}
