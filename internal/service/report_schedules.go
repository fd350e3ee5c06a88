package service

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/alert"
	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/notify"
)

// CreateReportSchedule schedules a group's report by e-mail through one of
// the workspace's e-mail channels. Settings permission, like the channels.
func (s *Service) CreateReportSchedule(ctx context.Context, a Actor, r domain.ReportSchedule) (*domain.ReportSchedule, error) {
	if err := a.Require(domain.PermSettings); err != nil {
		return nil, err
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	ch, err := s.Store.GetChannel(ctx, a.WorkspaceID, r.ChannelID)
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return nil, domain.Errorf(domain.EINVALID, "channel_id: channel %d is not in this workspace", r.ChannelID)
	} else if err != nil {
		return nil, err
	}
	if ch.Kind != alert.ChannelEmail {
		return nil, domain.Errorf(domain.EINVALID, "channel_id: %s is a %s channel; reports go to e-mail channels", ch.Name, ch.Kind)
	}
	r.ID, r.WorkspaceID, r.CreatedBy, r.CreatedAt, r.LastRunAt, r.LastError = 0, a.WorkspaceID, a.Login, s.Now(), nil, ""
	if err := s.Store.CreateReportSchedule(ctx, &r); err != nil {
		return nil, err
	}
	s.Audit(ctx, a, "report_schedule.create", "report_schedule", r.ID,
		map[string]any{"group_id": r.GroupID, "channel_id": r.ChannelID, "frequency": r.Frequency, "hour": r.Hour, "weekday": r.Weekday})
	return &r, nil
}

// ListReportSchedules lists the workspace's scheduled reports.
func (s *Service) ListReportSchedules(ctx context.Context, a Actor) ([]domain.ReportSchedule, error) {
	if err := a.Require(domain.PermView); err != nil {
		return nil, err
	}
	return s.Store.ListReportSchedules(ctx, a.WorkspaceID)
}

// DeleteReportSchedule stops a scheduled report.
func (s *Service) DeleteReportSchedule(ctx context.Context, a Actor, id int64) error {
	if err := a.Require(domain.PermSettings); err != nil {
		return err
	}
	if err := s.Store.DeleteReportSchedule(ctx, a.WorkspaceID, id); err != nil {
		return err
	}
	s.Audit(ctx, a, "report_schedule.delete", "report_schedule", id, nil)
	return nil
}

// SendDueReports sends every scheduled report whose slot has come: renders
// the group's report as the workspace's system user and mails it through
// the schedule's channel. Each slot is claimed in the store first, so
// several replicas running the job send it once; a failure is recorded on
// the schedule and not retried before the next slot (a report is a
// snapshot, and tomorrow's is better than a late copy of today's).
func (s *Service) SendDueReports(ctx context.Context) (int, error) {
	if s.RenderReport == nil {
		return 0, nil
	}
	all, err := s.Store.AllReportSchedules(ctx)
	if err != nil {
		return 0, err
	}
	now := s.Now()
	sent := 0
	for _, r := range all {
		if !r.Due(now) {
			continue
		}
		ok, err := s.Store.ClaimReportRun(ctx, r.WorkspaceID, r.ID, r.Slot(now))
		if err != nil {
			return sent, err
		}
		if !ok {
			continue
		}
		msg := ""
		if err := s.sendReport(ctx, &r, now); err != nil {
			msg = err.Error()
			s.Log.Warn("scheduled report not sent", "workspace_id", r.WorkspaceID, "schedule_id", r.ID, "group_id", r.GroupID, "err", err)
		} else {
			sent++
			s.Log.Info("scheduled report sent", "workspace_id", r.WorkspaceID, "schedule_id", r.ID, "group_id", r.GroupID)
		}
		if err := s.Store.SetReportError(ctx, r.WorkspaceID, r.ID, msg); err != nil {
			return sent, err
		}
	}
	return sent, nil
}

func (s *Service) sendReport(ctx context.Context, r *domain.ReportSchedule, now time.Time) error {
	system := Actor{Login: "system", WorkspaceID: r.WorkspaceID, Role: domain.RoleAdmin}
	html, text, err := s.RenderReport(ctx, system, r.GroupID)
	if err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	ch, err := s.Store.GetChannel(ctx, r.WorkspaceID, r.ChannelID)
	if err != nil {
		return err
	}
	sec, err := s.openChannel(ch)
	if err != nil {
		return err
	}
	sender := s.Notifier
	if sender == nil {
		sender = &notify.Sender{}
	}
	day := now.UTC().Format("2006-01-02")
	_, err = sender.Send(ctx, ch, sec, &notify.Message{WorkspaceID: r.WorkspaceID, Kind: "report", SentAt: now,
		Report: &notify.Report{Subject: fmt.Sprintf("Vigil report: %s, %s", r.GroupName, day), Text: text, HTML: html,
			FileName: fileSafe(r.GroupName) + "-" + day + ".html"}})
	return err
}

// fileSafe makes a file name from a group name.
func fileSafe(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	if b.Len() == 0 {
		return "report"
	}
	return b.String()
}
