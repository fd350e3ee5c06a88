package service

import (
	"context"
	"encoding/json"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
)

// Origin is where a request came from, as the audit log records it. The
// HTTP layer resolves the client address (honouring only configured trusted
// proxies) and puts it in the context with WithOrigin.
type Origin struct {
	RemoteIP  string
	UserAgent string
}

type originKey struct{}

// WithOrigin returns ctx carrying o.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// OriginFrom returns the origin stored by WithOrigin, or the zero Origin
// (a background job, the CLI).
func OriginFrom(ctx context.Context) Origin {
	o, _ := ctx.Value(originKey{}).(Origin)
	return o
}

// Audit detail and user agent limits: the log is for "who did what", not
// for payloads.
const (
	maxAuditDetail    = 2048
	maxAuditUserAgent = 256
)

// Audit records a change made by a user: action ("host.update"), the
// subject's type and ID, and a short detail (anything that encodes to a
// JSON object; nil for none). Keys that name secrets are dropped from the
// detail whatever the caller passes. Call it after the change succeeded.
//
// A failure to write the entry is logged, not returned: the change it
// describes has already been made and cannot be rolled back from here.
func (s *Service) Audit(ctx context.Context, a Actor, action, subjectType string, subjectID int64, detail any) {
	e := &domain.AuditEntry{WorkspaceID: a.WorkspaceID, Actor: a.Login,
		Action: action, SubjectType: subjectType, SubjectID: subjectID}
	if a.UserID != 0 {
		id := a.UserID
		e.UserID = &id
	}
	s.appendAudit(ctx, e, detail)
}

// AuditAgent records a change made by an agent (a pinned host key, say).
func (s *Service) AuditAgent(ctx context.Context, ag *domain.Agent, action, subjectType string, subjectID int64, detail any) {
	id := ag.ID
	e := &domain.AuditEntry{WorkspaceID: ag.WorkspaceID, AgentID: &id, Actor: "agent:" + ag.Name,
		Action: action, SubjectType: subjectType, SubjectID: subjectID}
	s.appendAudit(ctx, e, detail)
}

func (s *Service) appendAudit(ctx context.Context, e *domain.AuditEntry, detail any) {
	o := OriginFrom(ctx)
	e.RemoteIP = o.RemoteIP
	e.UserAgent = truncate(o.UserAgent, maxAuditUserAgent)
	e.At = s.Now()
	e.Detail = auditDetail(detail)
	// The request may be cancelled right after the change; the entry must
	// still be written.
	if err := s.Store.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		s.Log.Error("audit: entry not written", "workspace_id", e.WorkspaceID, "actor", e.Actor,
			"action", e.Action, "subject", e.SubjectType, "subject_id", e.SubjectID, "err", err)
	}
}

// auditDetail encodes v as a JSON object without secret-looking keys, cut
// to a bounded size.
func auditDetail(v any) json.RawMessage {
	if v == nil {
		return json.RawMessage("{}")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage(`{"error":"detail not encodable"}`)
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return json.RawMessage("{}")
	}
	if _, ok := generic.(map[string]any); !ok {
		generic = map[string]any{"value": generic}
	}
	b, _ = json.Marshal(redact(generic))
	if len(b) > maxAuditDetail {
		return json.RawMessage(`{"truncated":true}`)
	}
	return b
}

// secretWords mark keys whose values must never reach the log.
var secretWords = []string{"password", "passphrase", "secret", "private_key", "privatekey", "token", "api_key", "apikey"}

func redact(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			lk := strings.ToLower(k)
			drop := false
			for _, w := range secretWords {
				if strings.Contains(lk, w) {
					drop = true
					break
				}
			}
			if drop {
				delete(x, k)
			} else {
				x[k] = redact(val)
			}
		}
	case []any:
		for i := range x {
			x[i] = redact(x[i])
		}
	}
	return v
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// ListAudit returns a page of the workspace's audit log. Admins only.
func (s *Service) ListAudit(ctx context.Context, a Actor, f store.AuditFilter) ([]domain.AuditEntry, int, error) {
	if err := a.Require(domain.PermAudit); err != nil {
		return nil, 0, err
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	return s.Store.ListAudit(ctx, a.WorkspaceID, f)
}

// Require fails with EFORBIDDEN unless the actor's role holds p.
func (a Actor) Require(p domain.Permission) error {
	if !domain.Can(a.Role, p) {
		return domain.Errorf(domain.EFORBIDDEN, "role %q may not do this (needs %q)", a.Role, p)
	}
	return nil
}

// requireHostInput asks for PermHosts, and PermCredentials as well when the
// input sets the host's login.
func (a Actor) requireHostInput(in domain.HostInput) error {
	if err := a.Require(domain.PermHosts); err != nil {
		return err
	}
	if in.HasSecret() || in.CredentialID != nil {
		return a.Require(domain.PermCredentials)
	}
	return nil
}

// hostAudit is a host change's audit detail: what identifies the host and
// whether its login changed, never the secret.
func hostAudit(h *domain.Host, in domain.HostInput) map[string]any {
	d := map[string]any{"name": h.Name, "address": h.Address, "transport": h.Transport}
	if in.HasSecret() {
		d["credential"] = "replaced"
	}
	if in.ResetHostKey {
		d["host_key"] = "reset"
	}
	if in.ResetJumpHostKey {
		d["jump_host_key"] = "reset"
	}
	return d
}

// credentialAudit names a credential and which secret kinds it holds.
func credentialAudit(c *domain.Credential) map[string]any {
	kind := "none"
	switch {
	case c.HasPrivateKey || len(c.SealedPrivateKey) > 0:
		kind = "ssh key"
	case c.HasPassword || len(c.SealedPassword) > 0:
		kind = "password"
	}
	return map[string]any{"name": c.Name, "username": c.Username, "login_kind": kind}
}

// keyType names an SSH public key for the audit log: its type and SHA-256
// fingerprint, as ssh-keygen -l shows them.
func keyType(authorizedKey string) string {
	k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(authorizedKey))
	if err != nil {
		return "unreadable"
	}
	return k.Type() + " " + ssh.FingerprintSHA256(k)
}
