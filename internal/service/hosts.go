package service

import (
	"context"
	"fmt"
	"strings"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
)

// ListHosts returns the workspace's hosts.
func (s *Service) ListHosts(ctx context.Context, a Actor, f store.HostFilter) ([]domain.Host, error) {
	if err := a.Require(domain.PermView); err != nil {
		return nil, err
	}
	return s.Store.ListHosts(ctx, a.WorkspaceID, f)
}

// GetHost returns one host of the workspace.
func (s *Service) GetHost(ctx context.Context, a Actor, id int64) (*domain.Host, error) {
	if err := a.Require(domain.PermView); err != nil {
		return nil, err
	}
	return s.Store.GetHost(ctx, a.WorkspaceID, id)
}

// CreateHost adds a host. Inline secrets become the host's own credential;
// without them the host uses the named or the workspace default credential.
// A host without an agent is given the workspace's oldest active agent, or
// left for the first agent that pulls its config.
func (s *Service) CreateHost(ctx context.Context, a Actor, in domain.HostInput) (*domain.Host, error) {
	if err := a.requireHostInput(in); err != nil {
		return nil, err
	}
	h := &domain.Host{WorkspaceID: a.WorkspaceID}
	if err := in.Apply(h, true); err != nil {
		return nil, err
	}
	if err := s.checkRefs(ctx, a.WorkspaceID, h); err != nil {
		return nil, err
	}
	if h.AgentID == nil {
		agents, err := s.Store.ListAgents(ctx, a.WorkspaceID)
		if err != nil {
			return nil, err
		}
		for _, ag := range agents {
			if ag.RevokedAt == nil {
				id := ag.ID
				h.AgentID = &id
				break
			}
		}
	}
	if in.HasSecret() {
		c, err := s.sealCredential(ctx, a.WorkspaceID, "host "+h.Name, in.Username, in.Password, in.PrivateKey, in.Passphrase)
		if err != nil {
			return nil, err
		}
		h.CredentialID = &c.ID
	}
	if err := s.Store.CreateHost(ctx, h); err != nil {
		return nil, err
	}
	s.Log.Info("host created", "workspace_id", a.WorkspaceID, "host_id", h.ID, "host", h.Name, "by", a.Login)
	s.Audit(ctx, a, "host.create", "host", h.ID, hostAudit(h, in))
	return h, nil
}

// UpdateHost changes a host. New inline secrets replace the host's own
// credential (or create one); the old secret is never returned.
func (s *Service) UpdateHost(ctx context.Context, a Actor, id int64, in domain.HostInput) (*domain.Host, error) {
	if err := a.requireHostInput(in); err != nil {
		return nil, err
	}
	h, err := s.Store.GetHost(ctx, a.WorkspaceID, id)
	if err != nil {
		return nil, err
	}
	if err := in.Apply(h, false); err != nil {
		return nil, err
	}
	if err := s.checkRefs(ctx, a.WorkspaceID, h); err != nil {
		return nil, err
	}
	if in.HasSecret() {
		c, err := s.sealCredential(ctx, a.WorkspaceID, fmt.Sprintf("host %s #%d", h.Name, h.ID), in.Username, in.Password, in.PrivateKey, in.Passphrase)
		if err != nil {
			return nil, err
		}
		h.CredentialID = &c.ID
	}
	if err := s.Store.UpdateHost(ctx, h); err != nil {
		return nil, err
	}
	s.Log.Info("host updated", "workspace_id", a.WorkspaceID, "host_id", h.ID, "by", a.Login)
	s.Audit(ctx, a, "host.update", "host", h.ID, hostAudit(h, in))
	return h, nil
}

// DeleteHost removes a host and its history.
func (s *Service) DeleteHost(ctx context.Context, a Actor, id int64) error {
	if err := a.Require(domain.PermHosts); err != nil {
		return err
	}
	var name string
	if h, err := s.Store.GetHost(ctx, a.WorkspaceID, id); err == nil {
		name = h.Name
	}
	if err := s.Store.DeleteHost(ctx, a.WorkspaceID, id); err != nil {
		return err
	}
	s.Audit(ctx, a, "host.delete", "host", id, map[string]string{"name": name})
	s.Log.Info("host deleted", "workspace_id", a.WorkspaceID, "host_id", id, "by", a.Login)
	return nil
}

// checkRefs makes sure the agent and credential a host points at belong to
// the same workspace, so IDs from another tenant cannot be attached.
func (s *Service) checkRefs(ctx context.Context, workspaceID int64, h *domain.Host) error {
	if h.AgentID != nil {
		if _, err := s.Store.GetAgent(ctx, workspaceID, *h.AgentID); err != nil {
			return domain.Errorf(domain.EINVALID, "agent_id: no agent %d in this workspace", *h.AgentID)
		}
	}
	if h.CredentialID != nil {
		if _, err := s.Store.GetCredential(ctx, workspaceID, *h.CredentialID); err != nil {
			return domain.Errorf(domain.EINVALID, "credential_id: no credential %d in this workspace", *h.CredentialID)
		}
	}
	if j := h.Options.Jump; j != nil && j.CredentialID != nil {
		if _, err := s.Store.GetCredential(ctx, workspaceID, *j.CredentialID); err != nil {
			return domain.Errorf(domain.EINVALID, "options.jump.credential_id: no credential %d in this workspace", *j.CredentialID)
		}
	}
	return nil
}

// CredentialInput is a named credential as a user supplies it.
type CredentialInput struct {
	Name       string  `json:"name"`
	Username   string  `json:"username"`
	Password   *string `json:"password"`
	PrivateKey *string `json:"private_key"`
	Passphrase *string `json:"passphrase"`
}

// ListCredentials returns the workspace's credentials without secrets.
func (s *Service) ListCredentials(ctx context.Context, a Actor) ([]domain.Credential, error) {
	if err := a.Require(domain.PermView); err != nil {
		return nil, err
	}
	return s.Store.ListCredentials(ctx, a.WorkspaceID)
}

// CreateCredential stores a named credential.
func (s *Service) CreateCredential(ctx context.Context, a Actor, in CredentialInput) (*domain.Credential, error) {
	if err := a.Require(domain.PermCredentials); err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.Name) == "" {
		return nil, domain.Errorf(domain.EINVALID, "name: required")
	}
	c, err := s.sealCredential(ctx, a.WorkspaceID, in.Name, &in.Username, in.Password, in.PrivateKey, in.Passphrase)
	if err != nil {
		return nil, err
	}
	s.Audit(ctx, a, "credential.create", "credential", c.ID, credentialAudit(c))
	return c, nil
}

// DeleteCredential removes a credential; hosts using it fall back to the default.
func (s *Service) DeleteCredential(ctx context.Context, a Actor, id int64) error {
	if err := a.Require(domain.PermCredentials); err != nil {
		return err
	}
	if err := s.Store.DeleteCredential(ctx, a.WorkspaceID, id); err != nil {
		return err
	}
	s.Audit(ctx, a, "credential.delete", "credential", id, nil)
	return nil
}

// SetDefaultCredential creates or replaces the workspace default login.
// Secrets left empty keep their stored value, so a user can change the
// username without retyping the password.
func (s *Service) SetDefaultCredential(ctx context.Context, a Actor, in CredentialInput) (*domain.Credential, error) {
	if err := a.Require(domain.PermCredentials); err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.Username) == "" {
		return nil, domain.Errorf(domain.EINVALID, "username: required")
	}
	if nonEmpty(in.Password) && nonEmpty(in.PrivateKey) {
		return nil, domain.Errorf(domain.EINVALID, "password, private_key: give one, not both")
	}
	cur, err := s.Store.GetDefaultCredential(ctx, a.WorkspaceID)
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		if !nonEmpty(in.Password) && !nonEmpty(in.PrivateKey) {
			return nil, domain.Errorf(domain.EINVALID, "password, private_key: one is required")
		}
		c := &domain.Credential{WorkspaceID: a.WorkspaceID, Name: "default", IsDefault: true}
		if err := s.fillSecrets(c, strings.TrimSpace(in.Username), in.Password, in.PrivateKey, in.Passphrase); err != nil {
			return nil, err
		}
		if err := s.Store.CreateCredential(ctx, c); err != nil {
			return nil, err
		}
		s.Log.Info("default credential set", "workspace_id", a.WorkspaceID, "by", a.Login)
		s.Audit(ctx, a, "credential.default", "credential", c.ID, credentialAudit(c))
		return c, nil
	} else if err != nil {
		return nil, err
	}
	if err := s.fillSecrets(cur, strings.TrimSpace(in.Username), in.Password, in.PrivateKey, in.Passphrase); err != nil {
		return nil, err
	}
	if err := s.Store.UpdateCredential(ctx, cur); err != nil {
		return nil, err
	}
	s.Log.Info("default credential updated", "workspace_id", a.WorkspaceID, "by", a.Login)
	s.Audit(ctx, a, "credential.default", "credential", cur.ID, credentialAudit(cur))
	return cur, nil
}

func (s *Service) sealCredential(ctx context.Context, workspaceID int64, name string, username, password, key, passphrase *string) (*domain.Credential, error) {
	if username == nil || strings.TrimSpace(*username) == "" {
		return nil, domain.Errorf(domain.EINVALID, "username: required")
	}
	if nonEmpty(password) == nonEmpty(key) {
		return nil, domain.Errorf(domain.EINVALID, "password, private_key: give exactly one")
	}
	c := &domain.Credential{WorkspaceID: workspaceID, Name: name}
	if err := s.fillSecrets(c, strings.TrimSpace(*username), password, key, passphrase); err != nil {
		return nil, err
	}
	if err := s.Store.CreateCredential(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// fillSecrets seals the given secrets into c. A new password clears a
// stored key and the other way round: a credential has one way to log in.
func (s *Service) fillSecrets(c *domain.Credential, username string, password, key, passphrase *string) error {
	if err := checkVaultRefs(username, password, key, passphrase); err != nil {
		return err
	}
	c.Username = username
	seal := func(v, field string) ([]byte, error) {
		return s.Sealer.Seal([]byte(v), sealAD(c.WorkspaceID, field))
	}
	var err error
	if nonEmpty(password) {
		if c.SealedPassword, err = seal(*password, "password"); err != nil {
			return err
		}
		c.SealedPrivateKey, c.SealedPassphrase = []byte{}, []byte{}
	}
	if nonEmpty(key) {
		if err := validatePrivateKey(*key, passphrase); err != nil {
			return err
		}
		if c.SealedPrivateKey, err = seal(*key, "private_key"); err != nil {
			return err
		}
		c.SealedPassword, c.SealedPassphrase = []byte{}, []byte{}
		if nonEmpty(passphrase) {
			if c.SealedPassphrase, err = seal(*passphrase, "passphrase"); err != nil {
				return err
			}
		}
	}
	return nil
}

// sealAD binds a sealed secret to its workspace and field.
func sealAD(workspaceID int64, field string) string {
	return fmt.Sprintf("vigil:credential:%d:%s", workspaceID, field)
}

func nonEmpty(s *string) bool { return s != nil && *s != "" }
