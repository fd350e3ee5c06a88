// Package vaultref resolves credential fields written as references
// "vault:<path>#<key>" by reading HashiCorp Vault (or OpenBao) at scan time,
// so that SSH and WinRM secrets never leave the customer network and are
// never stored on the Vigil server.
//
// A Resolver lives for one scan run: it logs in at most once, reads each
// secret at most once, and is dropped (its login token revoked) when the
// run ends, so nothing is cached between runs.
package vaultref

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// Config is the `vault:` block of the agent's config.yaml.
type Config struct {
	// Address is the Vault URL, e.g. https://vault.example.com:8200.
	Address string `yaml:"address"`
	// Namespace is sent as X-Vault-Namespace (Vault Enterprise, HCP).
	Namespace string `yaml:"namespace"`
	// CAFile is a PEM bundle trusted for Vault's TLS certificate, in
	// addition to nothing else (the system roots are not used with it).
	CAFile string `yaml:"ca_file"`
	// KVVersion forces the KV engine version (1 or 2) for every reference;
	// the first path element is then taken as the mount. 0 (the default)
	// asks Vault per mount (sys/internal/ui/mounts/<path>).
	KVVersion int `yaml:"kv_version"`
	// Timeout bounds each request to Vault; default 10s.
	Timeout time.Duration `yaml:"timeout"`
	Auth    Auth          `yaml:"auth"`
}

// Auth says how the agent logs into Vault.
type Auth struct {
	// Method is token, approle or kubernetes.
	Method string `yaml:"method"`
	// Mount is where the auth method is enabled; default "approle" or
	// "kubernetes".
	Mount string `yaml:"mount"`
	// TokenFile holds the token (method token). The VAULT_TOKEN
	// environment variable is used when no file is given.
	TokenFile string `yaml:"token_file"`
	// RoleID and SecretIDFile are the AppRole login. The secret ID is
	// read from the file at every login, so a rotated one is picked up.
	RoleID       string `yaml:"role_id"`
	SecretIDFile string `yaml:"secret_id_file"`
	// Role and JWTFile are the Kubernetes login; JWTFile defaults to the
	// pod's service-account token.
	Role    string `yaml:"role"`
	JWTFile string `yaml:"jwt_file"`
}

// Auth methods.
const (
	MethodToken      = "token"
	MethodAppRole    = "approle"
	MethodKubernetes = "kubernetes"
)

// DefaultJWTFile is where Kubernetes mounts a pod's service-account token.
const DefaultJWTFile = "/var/run/secrets/kubernetes.io/serviceaccount/token"

// Enabled reports whether a vault block was given at all.
func (c *Config) Enabled() bool { return c != nil && c.Address != "" }

// Validate checks the block and fills defaults. Files are checked for
// existence here so that a typo is reported at start-up, not per host.
func (c *Config) Validate() error {
	u, err := url.Parse(c.Address)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("vault.address %q must be an http(s) URL such as https://vault.example.com:8200", c.Address)
	}
	if c.KVVersion != 0 && c.KVVersion != 1 && c.KVVersion != 2 {
		return fmt.Errorf("vault.kv_version must be 1 or 2 (or left out to detect it per mount), got %d", c.KVVersion)
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Timeout < 0 {
		return errors.New("vault.timeout must be positive")
	}
	if err := fileExists("vault.ca_file", c.CAFile); err != nil {
		return err
	}
	a := &c.Auth
	switch a.Method {
	case MethodToken:
		if err := fileExists("vault.auth.token_file", a.TokenFile); err != nil {
			return err
		}
	case MethodAppRole:
		if a.RoleID == "" || a.SecretIDFile == "" {
			return errors.New("vault.auth: approle needs role_id and secret_id_file")
		}
		if err := fileExists("vault.auth.secret_id_file", a.SecretIDFile); err != nil {
			return err
		}
		if a.Mount == "" {
			a.Mount = "approle"
		}
	case MethodKubernetes:
		if a.Role == "" {
			return errors.New("vault.auth: kubernetes needs role")
		}
		if a.JWTFile == "" {
			a.JWTFile = DefaultJWTFile
		}
		if a.Mount == "" {
			a.Mount = "kubernetes"
		}
	case "":
		return errors.New("vault.auth.method is required: token, approle or kubernetes")
	default:
		return fmt.Errorf("vault.auth.method %q: use token, approle or kubernetes", a.Method)
	}
	a.Mount = strings.Trim(a.Mount, "/")
	return nil
}

func fileExists(key, path string) error {
	if path == "" {
		return nil
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	return nil
}
