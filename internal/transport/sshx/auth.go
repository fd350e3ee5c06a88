package sshx

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/vigil-project/vigil/internal/inventory"
)

// authMethods returns the logins to try, in order: the credential's own key,
// then the ssh-agent's keys, then the password (as password and as
// keyboard-interactive). All keys go into one publickey method because
// x/crypto/ssh tries each method name only once per connection.
func authMethods(c *inventory.Credential, ag agent.ExtendedAgent) ([]ssh.AuthMethod, error) {
	var own ssh.Signer
	if c.PrivateKey != "" {
		var err error
		if c.Passphrase != "" {
			own, err = ssh.ParsePrivateKeyWithPassphrase([]byte(c.PrivateKey), []byte(c.Passphrase))
		} else {
			own, err = ssh.ParsePrivateKey([]byte(c.PrivateKey))
		}
		if err != nil {
			return nil, fmt.Errorf("private key unusable: %w", err)
		}
	}
	var methods []ssh.AuthMethod
	if own != nil || ag != nil {
		methods = append(methods, ssh.PublicKeysCallback(func() ([]ssh.Signer, error) {
			var signers []ssh.Signer
			if own != nil {
				signers = append(signers, own)
			}
			if ag != nil {
				// An agent that fails to list its keys leaves the
				// credential's own key and password to try.
				if keys, err := ag.Signers(); err == nil {
					signers = append(signers, keys...)
				}
			}
			return signers, nil
		}))
	}
	if c.Password != "" {
		pw := c.Password
		// Many servers (PAM) only offer keyboard-interactive for passwords.
		ki := ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
			answers := make([]string, len(questions))
			for i := range answers {
				answers[i] = pw
			}
			return answers, nil
		})
		methods = append(methods, ssh.Password(pw), ki)
	}
	if len(methods) == 0 {
		return nil, errors.New("credential has neither a password nor a private key (and ssh_agent is off in the agent's config.yaml)")
	}
	return methods, nil
}
