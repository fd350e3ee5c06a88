// Package sshkey formats SSH host keys the way operators compare them.
package sshkey

import (
	"strings"

	"golang.org/x/crypto/ssh"
)

// Fingerprint returns the OpenSSH SHA256 fingerprint of a key in
// authorized_keys format, or "" when it cannot be parsed.
func Fingerprint(authorized string) string {
	if strings.TrimSpace(authorized) == "" {
		return ""
	}
	k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(authorized))
	if err != nil {
		return ""
	}
	return ssh.FingerprintSHA256(k)
}

// Marshal returns a key in authorized_keys format without a trailing newline.
func Marshal(k ssh.PublicKey) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
}

// Algorithms returns the host key algorithms that can present a key of the
// given type. Offering only these makes the server show the pinned key,
// rather than another of its keys that would look like a key change.
func Algorithms(keyType string) []string {
	switch keyType {
	case ssh.KeyAlgoRSA:
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	case ssh.CertAlgoRSAv01:
		return []string{ssh.CertAlgoRSASHA512v01, ssh.CertAlgoRSASHA256v01, ssh.CertAlgoRSAv01}
	default:
		return []string{keyType}
	}
}
