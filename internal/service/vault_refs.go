package service

import (
	"errors"

	"golang.org/x/crypto/ssh"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/vaultref"
)

// checkVaultRefs checks the form of credential fields written as Vault
// references (vault:<path>#<key>). The server stores them as they are and
// never contacts Vault: the agent resolves them at scan time.
func checkVaultRefs(username string, password, key, passphrase *string) error {
	for _, f := range []struct {
		name string
		v    *string
	}{{"username", &username}, {"password", password}, {"private_key", key}, {"passphrase", passphrase}} {
		if f.v == nil || !vaultref.IsRef(*f.v) {
			continue
		}
		if _, err := vaultref.ParseRef(*f.v); err != nil {
			return domain.Errorf(domain.EINVALID, "%s: %v", f.name, err)
		}
	}
	return nil
}

// privateKeyRefs handles the private key checks that Vault references make
// impossible or different: a referenced key cannot be parsed here, and a
// literal key with a referenced passphrase must be an encrypted one. done
// reports that the key needs no further checking.
func privateKeyRefs(key string, passphrase *string) (done bool, err error) {
	if vaultref.IsRef(key) {
		return true, nil
	}
	if !nonEmpty(passphrase) || !vaultref.IsRef(*passphrase) {
		return false, nil
	}
	_, perr := ssh.ParsePrivateKey([]byte(key))
	var missing *ssh.PassphraseMissingError
	switch {
	case errors.As(perr, &missing):
		return true, nil
	case perr == nil:
		return true, domain.Errorf(domain.EINVALID, "passphrase: the private key is not encrypted; leave the passphrase empty")
	default:
		return true, domain.Errorf(domain.EINVALID, "private_key: %s", cleanKeyError(perr))
	}
}
