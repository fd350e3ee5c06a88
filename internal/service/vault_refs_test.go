package service

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// Credentials whose fields are Vault references are stored as they are;
// only the reference's form can be checked on the server.
func TestCredentialVaultReferences(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := ssh.MarshalPrivateKey(priv, "")
	enc, _ := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("pp"))
	plainKey, encKey := string(pem.EncodeToMemory(plain)), string(pem.EncodeToMemory(enc))
	s := func(v string) *string { return &v }
	tests := []struct {
		name                string
		user                string
		pw, key, passphrase *string
		wantErr             string
	}{
		{"password reference", "scan", s("vault:secret/linux/web#password"), nil, nil, ""},
		{"username and key references", "vault:secret/linux/web#user", nil, s("vault:secret/linux/web#ssh_key"), nil, ""},
		{"key reference with passphrase reference", "scan", nil, s("vault:kv/keys#key"), s("vault:kv/keys#passphrase"), ""},
		{"encrypted key, passphrase from Vault", "scan", nil, s(encKey), s("vault:kv/keys#passphrase"), ""},
		{"plain key, passphrase from Vault", "scan", nil, s(plainKey), s("vault:kv/keys#passphrase"), "not encrypted"},
		{"reference without key", "scan", s("vault:secret/linux/web"), nil, nil, "password: vault reference"},
		{"reference with dot-dot", "scan", nil, s("vault:secret/../sys/x#k"), nil, "private_key: vault reference"},
		{"literal key still checked", "scan", nil, s("not a key"), nil, "private_key: not a usable private key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkVaultRefs(tc.user, tc.pw, tc.key, tc.passphrase)
			if err == nil && tc.key != nil {
				err = validatePrivateKey(*tc.key, tc.passphrase)
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}
