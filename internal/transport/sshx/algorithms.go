package sshx

import (
	"slices"

	"golang.org/x/crypto/ssh"

	"github.com/vigil-project/vigil/internal/sshkey"
)

// Legacy algorithms a host may be allowed to use. x/crypto/ssh's own
// defaults still include diffie-hellman-group14-sha1 and ssh-rsa (SHA-1)
// host keys, so "off" starts from SupportedAlgorithms (its list without
// algorithms with known weaknesses) rather than the defaults.
var (
	legacyKex = []string{
		ssh.InsecureKeyExchangeDH14SHA1,
		ssh.InsecureKeyExchangeDH1SHA1,
		ssh.InsecureKeyExchangeDHGEXSHA1,
	}
	// RC4 stays out even for old hosts: every SSH server that speaks RC4
	// also speaks a CBC mode.
	legacyCiphers  = []string{ssh.InsecureCipherAES128CBC, ssh.InsecureCipherTripleDESCBC}
	legacyMACs     = []string{ssh.InsecureHMACSHA196}
	legacyHostKeys = []string{ssh.KeyAlgoRSA, ssh.CertAlgoRSAv01}
)

// algorithms returns the key exchanges, ciphers and MACs offered to a host.
func algorithms(legacy bool) ssh.Config {
	sup := ssh.SupportedAlgorithms()
	cfg := ssh.Config{KeyExchanges: sup.KeyExchanges, Ciphers: sup.Ciphers, MACs: sup.MACs}
	if legacy {
		// Appended: a host that also speaks modern algorithms gets them.
		cfg.KeyExchanges = append(cfg.KeyExchanges, legacyKex...)
		cfg.Ciphers = append(cfg.Ciphers, legacyCiphers...)
		cfg.MACs = append(cfg.MACs, legacyMACs...)
	}
	return cfg
}

// hostKeyAlgorithms returns the host key algorithms to offer. With a pinned
// key, only the algorithms that key can sign with: the server then presents
// the pinned key rather than another of its keys, which would look like a
// key change.
func hostKeyAlgorithms(pinned ssh.PublicKey, legacy bool) []string {
	var algos []string
	if pinned != nil {
		algos = sshkey.Algorithms(pinned.Type())
	} else {
		algos = ssh.SupportedAlgorithms().HostKeys
		if legacy {
			algos = append(algos, legacyHostKeys...)
		}
	}
	if !legacy {
		algos = slices.DeleteFunc(algos, func(a string) bool { return slices.Contains(legacyHostKeys, a) })
	}
	return algos
}
