package vaultref

import (
	"errors"
	"fmt"
	"strings"

	"github.com/vigil-project/vigil/internal/inventory"
)

// Prefix marks a credential field as a Vault reference.
const Prefix = "vault:"

// Ref is a parsed reference: the key Key of the secret at Path (the path as
// the Vault CLI writes it, mount included, without KV v2's "data/").
type Ref struct {
	Path string
	Key  string
}

func (r Ref) String() string { return Prefix + r.Path + "#" + r.Key }

// IsRef reports whether a credential field is a Vault reference.
func IsRef(s string) bool { return strings.HasPrefix(s, Prefix) }

// ParseRef parses "vault:<path>#<key>".
func ParseRef(s string) (Ref, error) {
	rest, ok := strings.CutPrefix(s, Prefix)
	if !ok {
		return Ref{}, errors.New("not a vault: reference")
	}
	path, key, ok := strings.Cut(rest, "#")
	path = strings.Trim(path, "/")
	switch {
	case !ok || key == "":
		return Ref{}, fmt.Errorf("vault reference %q: give the key after '#', as in vault:secret/db#password", rest)
	case path == "":
		return Ref{}, fmt.Errorf("vault reference %q: the path is empty", rest)
	case strings.Contains("/"+path+"/", "/../") || strings.Contains("/"+path+"/", "/./") || strings.Contains(path, "//"):
		return Ref{}, fmt.Errorf("vault reference %q: path must not contain empty, '.' or '..' elements", rest)
	case strings.ContainsAny(path, "?\x00") || strings.ContainsAny(key, "\x00"):
		return Ref{}, fmt.Errorf("vault reference %q: path holds characters Vault paths cannot", rest)
	}
	return Ref{Path: path, Key: key}, nil
}

// HasRefs reports whether any field of c is a reference.
func HasRefs(c *inventory.Credential) bool {
	if c == nil {
		return false
	}
	for _, f := range fields(c) {
		if IsRef(*f.v) {
			return true
		}
	}
	return false
}

type field struct {
	name string
	v    *string
}

func fields(c *inventory.Credential) []field {
	return []field{{"username", &c.Username}, {"password", &c.Password}, {"private_key", &c.PrivateKey}, {"passphrase", &c.Passphrase}}
}

// Error is a reference that could not be resolved. Its message names the
// reference and the field, never a secret value.
type Error struct {
	Field string // credential field: username, password, ...
	Ref   string // the reference as written
	Err   error
}

func (e *Error) Error() string {
	return fmt.Sprintf("credential %s: %s: %v", e.Field, e.Ref, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }
