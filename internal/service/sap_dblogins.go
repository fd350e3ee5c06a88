package service

import (
	"context"
	"errors"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
)

// ListSAPDBLogins returns the workspace's SAP database logins (no secrets:
// they name a credential).
func (s *Service) ListSAPDBLogins(ctx context.Context, a Actor) ([]domain.SAPDBLogin, error) {
	if err := a.Require(domain.PermView); err != nil {
		return nil, err
	}
	return s.Store.ListSAPDBLogins(ctx, a.WorkspaceID)
}

// CreateSAPDBLogin lets agents read the component table of the systems
// with l.SID (every system when empty) with a stored credential. Choosing
// where a login is used is credential work (PermCredentials). The
// credential must hold a password: the database clients take no keys.
func (s *Service) CreateSAPDBLogin(ctx context.Context, a Actor, l domain.SAPDBLogin) (*domain.SAPDBLogin, error) {
	if err := a.Require(domain.PermCredentials); err != nil {
		return nil, err
	}
	if err := (inventory.SAPDBLogin{SID: l.SID, Address: l.Address, Database: l.Database, Schema: l.Schema}).Validate(); err != nil {
		var fe *inventory.FieldError
		if errors.As(err, &fe) {
			return nil, domain.Errorf(domain.EINVALID, "%s", fe.Error())
		}
		return nil, err
	}
	c, err := s.Store.GetCredential(ctx, a.WorkspaceID, l.CredentialID)
	if err != nil {
		return nil, err
	}
	if !c.HasPassword {
		return nil, domain.Errorf(domain.EINVALID, "credential %q has no password: database clients log in with a password", c.Name)
	}
	l.WorkspaceID, l.CreatedBy, l.CreatedAt = a.WorkspaceID, a.Login, s.Now()
	if err := s.Store.CreateSAPDBLogin(ctx, &l); err != nil {
		return nil, err
	}
	l.CredentialName = c.Name
	s.Audit(ctx, a, "sap.db_login.create", "sap_db_login", l.ID, map[string]any{"sid": l.SID, "credential_id": l.CredentialID,
		"address": l.Address, "database": l.Database, "schema": l.Schema})
	s.forgetAllAgentConfigs()
	return &l, nil
}

// DeleteSAPDBLogin stops agents using a login.
func (s *Service) DeleteSAPDBLogin(ctx context.Context, a Actor, id int64) error {
	if err := a.Require(domain.PermCredentials); err != nil {
		return err
	}
	if err := s.Store.DeleteSAPDBLogin(ctx, a.WorkspaceID, id); err != nil {
		return err
	}
	s.Audit(ctx, a, "sap.db_login.delete", "sap_db_login", id, nil)
	s.forgetAllAgentConfigs()
	return nil
}

// sapDBLoginsFor opens the workspace's SAP database logins for an agent
// config. A login whose credential no longer decrypts is left out and
// logged, like a host's.
func (s *Service) sapDBLoginsFor(ctx context.Context, workspaceID int64, cache map[int64]*inventory.Credential) ([]inventory.SAPDBLogin, error) {
	logins, err := s.Store.ListSAPDBLogins(ctx, workspaceID)
	if err != nil || len(logins) == 0 {
		return nil, err
	}
	out := make([]inventory.SAPDBLogin, 0, len(logins))
	for _, l := range logins {
		// Hosts' credentials opened for this config are in cache already.
		ic, ok := cache[l.CredentialID]
		if !ok {
			c, err := s.Store.GetCredential(ctx, workspaceID, l.CredentialID)
			if err != nil {
				return nil, err
			}
			if ic, err = s.openCredential(c, cache); err != nil {
				s.Log.Error("open credential", "workspace_id", workspaceID, "credential_id", c.ID, "sap_db_login_id", l.ID, "err", err)
				continue
			}
		}
		out = append(out, inventory.SAPDBLogin{SID: l.SID, Credential: &inventory.Credential{Username: ic.Username, Password: ic.Password},
			Address: l.Address, Database: l.Database, Schema: l.Schema})
	}
	return out, nil
}
