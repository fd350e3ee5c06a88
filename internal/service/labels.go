package service

import (
	"context"
	"regexp"

	"github.com/vigil-project/vigil/internal/domain"
)

// labelKey: lower-case, starts with a letter or digit, so that a label
// reads as a CEL field (labels.environment) and in URLs alike.
var labelKey = regexp.MustCompile(`^[a-z0-9][a-z0-9_]{0,62}$`)

// Label limits per host.
const (
	maxLabels     = 50
	maxLabelValue = 255
)

// SetHostLabels replaces a host's labels after validating them.
func (s *Service) SetHostLabels(ctx context.Context, a Actor, hostID int64, labels map[string]string) error {
	if err := a.Require(domain.PermHosts); err != nil {
		return err
	}
	if len(labels) > maxLabels {
		return domain.Errorf(domain.EINVALID, "labels: at most %d per host", maxLabels)
	}
	for k, v := range labels {
		if !labelKey.MatchString(k) {
			return domain.Errorf(domain.EINVALID, "labels.%s: keys are lower-case letters, digits and _, starting with a letter or digit, at most 63 characters", k)
		}
		if len(v) > maxLabelValue {
			return domain.Errorf(domain.EINVALID, "labels.%s: value longer than %d characters", k, maxLabelValue)
		}
	}
	if err := s.Store.SetHostLabels(ctx, a.WorkspaceID, hostID, labels); err != nil {
		return err
	}
	s.Log.Info("host labels set", "workspace_id", a.WorkspaceID, "host_id", hostID, "labels", len(labels), "by", a.Login)
	s.Audit(ctx, a, "host.labels", "host", hostID, map[string]any{"labels": labels})
	// Labels feed group expressions: re-evaluate rather than wait for the
	// host's next scan.
	s.reevaluateLater(a.WorkspaceID)
	return nil
}
