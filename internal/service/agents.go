package service

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"golang.org/x/crypto/ssh"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
)

// ListAgents returns the workspace's agents with their host counts.
func (s *Service) ListAgents(ctx context.Context, a Actor) ([]domain.Agent, error) {
	return s.Store.ListAgents(ctx, a.WorkspaceID)
}

// buildAgentConfig builds what one agent must scan, with decrypted
// credentials, and an ETag over it. AgentConfig (agents_admin.go) caches it.
func (s *Service) buildAgentConfig(ctx context.Context, ag *domain.Agent) (*inventory.AgentConfig, string, error) {
	if _, err := s.Store.ClaimUnassignedHosts(ctx, ag.WorkspaceID, ag.ID); err != nil {
		return nil, "", err
	}
	ws, err := s.Store.GetWorkspace(ctx, ag.WorkspaceID)
	if err != nil {
		return nil, "", err
	}
	hosts, err := s.Store.ListAgentHosts(ctx, ag.WorkspaceID, ag.ID)
	if err != nil {
		return nil, "", err
	}
	def, err := s.Store.GetDefaultCredential(ctx, ag.WorkspaceID)
	if err != nil && domain.ErrorCode(err) != domain.ENOTFOUND {
		return nil, "", err
	}
	creds := map[int64]*inventory.Credential{}
	checks, err := s.checkSet(ctx, ag.WorkspaceID)
	if err != nil {
		return nil, "", err
	}
	assignments, err := s.Store.ListAssignments(ctx, ag.WorkspaceID)
	if err != nil {
		return nil, "", err
	}
	sapOn, err := s.Store.SAPInScope(ctx, ag.WorkspaceID)
	if err != nil {
		return nil, "", err
	}
	cfg := &inventory.AgentConfig{
		SchemaVersion: inventory.SchemaVersion,
		AgentID:       ag.ID,
		WorkspaceID:   ag.WorkspaceID,
		Schedule:      ws.Schedule,
		Hosts:         make([]inventory.HostSpec, 0, len(hosts)),
	}
	for _, h := range hosts {
		spec := inventory.HostSpec{ID: h.ID, Name: h.Name, Address: h.Address, Port: h.Port,
			Transport: h.Transport, HostKey: h.HostKey,
			Sudo: h.Options.Sudo, LegacyAlgorithms: h.Options.LegacyAlgorithms, WinRM: h.Options.WinRM}
		spec.SAP = sapOn
		if h.Transport == inventory.TransportSSH || h.Transport == inventory.TransportWinRM {
			credFor := func(id *int64, fallback *domain.Credential) (*inventory.Credential, error) {
				c := fallback
				if id != nil {
					if c, err = s.Store.GetCredential(ctx, ag.WorkspaceID, *id); err != nil {
						return nil, err
					}
				}
				if c == nil {
					return nil, nil
				}
				ic, err := s.openCredential(c, creds)
				if err != nil {
					// A credential that no longer decrypts (master key changed)
					// fails that host only, and says so in the server log.
					s.Log.Error("open credential", "workspace_id", ag.WorkspaceID, "credential_id", c.ID, "err", err)
					return nil, nil
				}
				return ic, nil
			}
			if spec.Credential, err = credFor(h.CredentialID, def); err != nil {
				return nil, "", err
			}
			if j := h.Options.Jump; j != nil && h.Transport == inventory.TransportSSH {
				spec.Jump = &inventory.JumpHost{Address: j.Address, Port: j.Port, HostKey: j.HostKey}
				// The bastion uses its own stored login, else the host's.
				if j.CredentialID != nil {
					if spec.Jump.Credential, err = credFor(j.CredentialID, nil); err != nil {
						return nil, "", err
					}
				} else {
					spec.Jump.Credential = spec.Credential
				}
			}
		}
		if spec.Items, err = s.hostItems(ctx, ag.WorkspaceID, checks, assignments, &h); err != nil {
			return nil, "", err
		}
		cfg.Hosts = append(cfg.Hosts, spec)
	}
	if sapOn {
		// After the hosts: a login sharing a host's credential is opened once.
		sapDB, err := s.sapDBLoginsFor(ctx, ag.WorkspaceID, creds)
		if err != nil {
			return nil, "", err
		}
		for i := range cfg.Hosts {
			cfg.Hosts[i].SAPDB = sapDB
		}
	}
	body, err := json.Marshal(cfg)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(body)
	return cfg, `"` + hex.EncodeToString(sum[:16]) + `"`, nil
}

func (s *Service) openCredential(c *domain.Credential, cache map[int64]*inventory.Credential) (*inventory.Credential, error) {
	if ic, ok := cache[c.ID]; ok {
		return ic, nil
	}
	open := func(sealed []byte, field string) (string, error) {
		if len(sealed) == 0 {
			return "", nil
		}
		b, err := s.Sealer.Open(sealed, sealAD(c.WorkspaceID, field))
		return string(b), err
	}
	ic := &inventory.Credential{Username: c.Username}
	var err error
	if ic.Password, err = open(c.SealedPassword, "password"); err != nil {
		return nil, err
	}
	if ic.PrivateKey, err = open(c.SealedPrivateKey, "private_key"); err != nil {
		return nil, err
	}
	if ic.Passphrase, err = open(c.SealedPassphrase, "passphrase"); err != nil {
		return nil, err
	}
	cache[c.ID] = ic
	return ic, nil
}

// validatePrivateKey rejects keys that the agent could not use, at save time
// rather than at 3 a.m. on the first scan.
func validatePrivateKey(key string, passphrase *string) error {
	if done, err := privateKeyRefs(key, passphrase); done {
		return err
	}
	var err error
	if nonEmpty(passphrase) {
		_, err = ssh.ParsePrivateKeyWithPassphrase([]byte(key), []byte(*passphrase))
	} else {
		_, err = ssh.ParsePrivateKey([]byte(key))
	}
	var missing *ssh.PassphraseMissingError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &missing):
		return domain.Errorf(domain.EINVALID, "passphrase: the private key is encrypted")
	case errors.Is(err, x509.IncorrectPasswordError):
		return domain.Errorf(domain.EINVALID, "passphrase: does not decrypt the private key")
	default:
		return domain.Errorf(domain.EINVALID, "private_key: %s", cleanKeyError(err))
	}
}

func cleanKeyError(err error) string {
	return fmt.Sprintf("not a usable private key (%v)", err)
}
