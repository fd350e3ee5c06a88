package vaultref

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/vigil-project/vigil/internal/inventory"
)

// Resolver resolves references for one scan run. It is safe for concurrent
// use by the run's host scans. Create one per run and Close it at the end:
// nothing it read outlives the run.
type Resolver struct {
	cfg    Config
	client *vault.Client

	loginMu  sync.Mutex
	loggedIn bool
	loginErr error
	ownToken bool // obtained by a login, so revoked on Close

	mu      sync.Mutex
	secrets map[string]*read // by path: read once per run
	mounts  map[string]bool  // KV mount path ("secret/") → version 2
}

type read struct {
	done chan struct{}
	data map[string]any
	err  error
}

// New prepares a resolver; it does not contact Vault until a reference is
// resolved. cfg must have passed Validate.
func New(cfg Config) (*Resolver, error) {
	vc := vault.DefaultConfig()
	if vc.Error != nil {
		return nil, fmt.Errorf("vault client: %w", vc.Error)
	}
	vc.Address = cfg.Address
	vc.Timeout = cfg.Timeout
	// One quick retry for a 5xx or a dropped connection; a sealed Vault
	// should fail the run's hosts fast, not hold every scan for seconds.
	vc.MaxRetries = 1
	vc.MinRetryWait = 100 * time.Millisecond
	vc.MaxRetryWait = 500 * time.Millisecond
	if cfg.CAFile != "" {
		if err := vc.ConfigureTLS(&vault.TLSConfig{CACert: cfg.CAFile}); err != nil {
			return nil, fmt.Errorf("vault.ca_file: %w", err)
		}
	}
	c, err := vault.NewClient(vc)
	if err != nil {
		return nil, fmt.Errorf("vault client: %w", err)
	}
	// NewClient picks VAULT_TOKEN up from the environment; only the token
	// method may use it.
	c.ClearToken()
	if cfg.Namespace != "" {
		c.SetNamespace(cfg.Namespace)
	} else {
		c.ClearNamespace()
	}
	return &Resolver{cfg: cfg, client: c, secrets: map[string]*read{}, mounts: map[string]bool{}}, nil
}

// Resolve returns a copy of c with every reference replaced by the secret
// it names; c itself is left as it was, so the references stay in the
// agent's copy of its config for the next run. A credential without
// references is returned as is. r may be nil (no vault block configured):
// then a reference is an error that says so.
func (r *Resolver) Resolve(ctx context.Context, c *inventory.Credential) (*inventory.Credential, error) {
	if !HasRefs(c) {
		return c, nil
	}
	out := *c
	for _, f := range fields(&out) {
		if !IsRef(*f.v) {
			continue
		}
		refText := *f.v
		ref, err := ParseRef(refText)
		if err != nil {
			return nil, &Error{Field: f.name, Ref: refText, Err: err}
		}
		if r == nil {
			return nil, &Error{Field: f.name, Ref: refText, Err: errors.New("the agent's config.yaml has no vault: block, so Vault references cannot be resolved")}
		}
		v, err := r.value(ctx, ref)
		if err != nil {
			return nil, &Error{Field: f.name, Ref: refText, Err: err}
		}
		*f.v = v
	}
	return &out, nil
}

func (r *Resolver) value(ctx context.Context, ref Ref) (string, error) {
	data, err := r.secret(ctx, ref.Path)
	if err != nil {
		return "", err
	}
	raw, ok := data[ref.Key]
	if !ok {
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		// Key names are not secret; they help spot a typo.
		return "", fmt.Errorf("the secret has no key %q (it has: %s)", ref.Key, strings.Join(keys, ", "))
	}
	s, ok := raw.(string)
	if !ok {
		return "", fmt.Errorf("the value of key %q is a %T, not a string", ref.Key, raw)
	}
	return s, nil
}

// secret reads the secret at path once per run, however many hosts share
// it; concurrent callers wait for the first read.
func (r *Resolver) secret(ctx context.Context, path string) (map[string]any, error) {
	for {
		r.mu.Lock()
		rd, ok := r.secrets[path]
		if !ok {
			rd = &read{done: make(chan struct{})}
			r.secrets[path] = rd
		}
		r.mu.Unlock()
		if !ok {
			rd.data, rd.err = r.readSecret(ctx, path)
			if rd.err != nil && ctx.Err() != nil {
				// This host ran out of time; that says nothing about the
				// secret, so the next host reads it afresh.
				r.mu.Lock()
				delete(r.secrets, path)
				r.mu.Unlock()
			}
			close(rd.done)
			return rd.data, rd.err
		}
		select {
		case <-rd.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		r.mu.Lock()
		retry := r.secrets[path] != rd
		r.mu.Unlock()
		if !retry {
			return rd.data, rd.err
		}
	}
}

func (r *Resolver) readSecret(ctx context.Context, path string) (map[string]any, error) {
	if err := r.login(ctx); err != nil {
		return nil, err
	}
	mount, v2, err := r.mount(ctx, path)
	if err != nil {
		return nil, err
	}
	apiPath := path
	if v2 {
		apiPath = mount + "data/" + strings.TrimPrefix(path, mount)
	}
	s, err := r.client.Logical().ReadWithContext(ctx, apiPath)
	if err != nil {
		return nil, describe("read "+apiPath, err)
	}
	if s == nil || s.Data == nil {
		return nil, fmt.Errorf("no secret at %s", path)
	}
	if !v2 {
		return s.Data, nil
	}
	// KV v2 wraps the secret: data.data, next to data.metadata. A deleted
	// or destroyed latest version reads as data.data = null.
	d, ok := s.Data["data"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("no secret at %s (its latest version is deleted or destroyed)", path)
	}
	return d, nil
}

// mount returns the KV mount holding path ("secret/") and whether it is
// version 2, asking Vault once per mount and run unless kv_version is set.
func (r *Resolver) mount(ctx context.Context, path string) (string, bool, error) {
	if r.cfg.KVVersion != 0 {
		first, _, _ := strings.Cut(path, "/")
		return first + "/", r.cfg.KVVersion == 2, nil
	}
	r.mu.Lock()
	for m, v2 := range r.mounts {
		if strings.HasPrefix(path+"/", m) {
			r.mu.Unlock()
			return m, v2, nil
		}
	}
	r.mu.Unlock()
	// The same preflight request the vault CLI makes before "kv get".
	s, err := r.client.Logical().ReadWithContext(ctx, "sys/internal/ui/mounts/"+path)
	if err != nil {
		return "", false, describe("find the KV mount of "+path+" (or set vault.kv_version)", err)
	}
	if s == nil {
		// Vault before 0.10 has no such endpoint and only KV version 1.
		first, _, _ := strings.Cut(path, "/")
		return first + "/", false, nil
	}
	m, _ := s.Data["path"].(string)
	if m == "" || !strings.HasPrefix(path+"/", m) {
		return "", false, fmt.Errorf("Vault reports mount %q for %s", m, path)
	}
	if t, _ := s.Data["type"].(string); t != "" && t != "kv" && t != "generic" {
		return "", false, fmt.Errorf("%s is on a %q secrets engine, not KV", path, t)
	}
	v2 := false
	if opts, ok := s.Data["options"].(map[string]any); ok {
		v2 = opts["version"] == "2"
	}
	r.mu.Lock()
	r.mounts[m] = v2
	r.mu.Unlock()
	return m, v2, nil
}

// Login logs in now rather than at the first reference, for
// 'vigil agent check'. A resolver that logged in keeps its token for the
// run like any other.
func (r *Resolver) Login(ctx context.Context) error { return r.login(ctx) }

// login authenticates once per run; a failed login fails every reference
// of the run with the same error rather than being retried per host.
func (r *Resolver) login(ctx context.Context) error {
	r.loginMu.Lock()
	defer r.loginMu.Unlock()
	if r.loggedIn || r.loginErr != nil {
		return r.loginErr
	}
	err := r.doLogin(ctx)
	if err != nil && ctx.Err() != nil {
		return err // this host's deadline, not Vault's answer: not kept
	}
	r.loginErr = err
	r.loggedIn = err == nil
	return err
}

func (r *Resolver) doLogin(ctx context.Context) error {
	a := r.cfg.Auth
	switch a.Method {
	case MethodToken:
		tok := os.Getenv("VAULT_TOKEN")
		if a.TokenFile != "" {
			b, err := os.ReadFile(a.TokenFile)
			if err != nil {
				return fmt.Errorf("vault token: %w", err)
			}
			tok = strings.TrimSpace(string(b))
		}
		if tok == "" {
			return errors.New("vault token: set vault.auth.token_file or VAULT_TOKEN")
		}
		r.client.SetToken(tok)
		// A wrong or expired token is one clear error, not a 403 per secret.
		if _, err := r.client.Auth().Token().LookupSelfWithContext(ctx); err != nil {
			return describe("check the vault token (auth/token/lookup-self)", err)
		}
		return nil
	case MethodAppRole:
		b, err := os.ReadFile(a.SecretIDFile)
		if err != nil {
			return fmt.Errorf("vault approle secret_id_file: %w", err)
		}
		return r.loginWith(ctx, a.Mount, map[string]any{"role_id": a.RoleID, "secret_id": strings.TrimSpace(string(b))})
	case MethodKubernetes:
		b, err := os.ReadFile(a.JWTFile)
		if err != nil {
			return fmt.Errorf("vault kubernetes jwt_file: %w", err)
		}
		return r.loginWith(ctx, a.Mount, map[string]any{"role": a.Role, "jwt": strings.TrimSpace(string(b))})
	}
	return fmt.Errorf("vault auth method %q not supported", a.Method)
}

func (r *Resolver) loginWith(ctx context.Context, mount string, body map[string]any) error {
	path := "auth/" + mount + "/login"
	s, err := r.client.Logical().WriteWithContext(ctx, path, body)
	if err != nil {
		return describe("log in ("+path+")", err)
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		return fmt.Errorf("log in (%s): Vault answered without a token", path)
	}
	r.client.SetToken(s.Auth.ClientToken)
	r.ownToken = true
	return nil
}

// Close ends the run: a token obtained by login is revoked, and everything
// read is dropped.
func (r *Resolver) Close(ctx context.Context) {
	if r == nil {
		return
	}
	r.loginMu.Lock()
	if r.ownToken {
		// Best effort: the token expires with its TTL anyway.
		_ = r.client.Auth().Token().RevokeSelfWithContext(ctx, "")
		r.ownToken = false
	}
	r.client.ClearToken()
	r.loggedIn = false
	r.loginMu.Unlock()
	r.mu.Lock()
	r.secrets = map[string]*read{}
	r.mounts = map[string]bool{}
	r.mu.Unlock()
}

// describe turns a Vault API error into a sentence an operator can act on.
// Vault's error texts never contain secret values.
func describe(what string, err error) error {
	var re *vault.ResponseError
	if !errors.As(err, &re) {
		return fmt.Errorf("%s: Vault unreachable: %w", what, err)
	}
	detail := strings.Join(re.Errors, "; ")
	switch re.StatusCode {
	case http.StatusServiceUnavailable:
		return fmt.Errorf("%s: Vault is sealed or unavailable (HTTP 503: %s)", what, detail)
	case http.StatusForbidden:
		return fmt.Errorf("%s: permission denied (HTTP 403: %s); check the policy of the agent's Vault role and the namespace", what, detail)
	case http.StatusBadRequest:
		return fmt.Errorf("%s: refused (HTTP 400: %s)", what, detail)
	}
	return fmt.Errorf("%s: HTTP %d: %s", what, re.StatusCode, detail)
}
