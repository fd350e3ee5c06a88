package domain

import "time"

// Report schedule frequencies.
const (
	ReportDaily  = "daily"
	ReportWeekly = "weekly"
)

// ReportSchedule sends a group's printable report by e-mail, through one
// of the workspace's e-mail notification channels, every day or every
// week at an hour (UTC).
type ReportSchedule struct {
	ID          int64      `json:"id"`
	WorkspaceID int64      `json:"workspace_id"`
	GroupID     int64      `json:"group_id"`
	GroupName   string     `json:"group_name,omitempty"`
	ChannelID   int64      `json:"channel_id"`
	ChannelName string     `json:"channel_name,omitempty"`
	Frequency   string     `json:"frequency"`
	Weekday     int        `json:"weekday"` // weekly: 0 Sunday .. 6 Saturday
	Hour        int        `json:"hour"`    // UTC
	CreatedBy   string     `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
	LastRunAt   *time.Time `json:"last_run_at,omitempty"` // the slot last sent or tried
	LastError   string     `json:"last_error,omitempty"`
}

// Validate checks the schedule's frequency and time.
func (r *ReportSchedule) Validate() error {
	switch {
	case r.Frequency != ReportDaily && r.Frequency != ReportWeekly:
		return Errorf(EINVALID, "frequency: must be %q or %q", ReportDaily, ReportWeekly)
	case r.Hour < 0 || r.Hour > 23:
		return Errorf(EINVALID, "hour: must be 0 to 23 (UTC)")
	case r.Weekday < 0 || r.Weekday > 6:
		return Errorf(EINVALID, "weekday: must be 0 (Sunday) to 6 (Saturday)")
	case r.GroupID <= 0:
		return Errorf(EINVALID, "group_id: required")
	case r.ChannelID <= 0:
		return Errorf(EINVALID, "channel_id: required")
	}
	return nil
}

// Slot returns the latest send time at or before now: today's (or this
// week's) hour, or the one before it.
func (r *ReportSchedule) Slot(now time.Time) time.Time {
	now = now.UTC()
	s := time.Date(now.Year(), now.Month(), now.Day(), r.Hour, 0, 0, 0, time.UTC)
	if r.Frequency == ReportWeekly {
		s = s.AddDate(0, 0, -((int(now.Weekday()) - r.Weekday + 7) % 7))
	}
	if s.After(now) {
		if r.Frequency == ReportWeekly {
			s = s.AddDate(0, 0, -7)
		} else {
			s = s.AddDate(0, 0, -1)
		}
	}
	return s
}

// Due reports whether the slot at or before now has not run yet. A new
// schedule waits for its first slot after it was made, so saving one at
// noon for 07:00 does not send at once.
func (r *ReportSchedule) Due(now time.Time) bool {
	slot := r.Slot(now)
	if r.LastRunAt != nil {
		return slot.After(*r.LastRunAt)
	}
	return !slot.Before(r.CreatedAt)
}
