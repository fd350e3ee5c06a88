package domain

import (
	"testing"
	"time"
)

func TestReportScheduleDue(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	last := func(s string) *time.Time { v := at(s); return &v }
	// 2026-06-01 is a Monday.
	tests := []struct {
		name string
		r    ReportSchedule
		now  string
		slot string
		due  bool
	}{
		{"daily, new, before its hour", ReportSchedule{Frequency: "daily", Hour: 7, CreatedAt: at("2026-06-01 06:00")}, "2026-06-01 06:59", "2026-05-31 07:00", false},
		{"daily, new, at its hour", ReportSchedule{Frequency: "daily", Hour: 7, CreatedAt: at("2026-06-01 06:00")}, "2026-06-01 07:00", "2026-06-01 07:00", true},
		{"daily, made after today's hour waits for tomorrow", ReportSchedule{Frequency: "daily", Hour: 7, CreatedAt: at("2026-06-01 12:00")}, "2026-06-01 13:00", "2026-06-01 07:00", false},
		{"daily, sent today", ReportSchedule{Frequency: "daily", Hour: 7, CreatedAt: at("2026-05-01 00:00"), LastRunAt: last("2026-06-01 07:00")}, "2026-06-01 23:00", "2026-06-01 07:00", false},
		{"daily, next day", ReportSchedule{Frequency: "daily", Hour: 7, CreatedAt: at("2026-05-01 00:00"), LastRunAt: last("2026-06-01 07:00")}, "2026-06-02 07:05", "2026-06-02 07:00", true},
		{"daily, missed days send once", ReportSchedule{Frequency: "daily", Hour: 7, CreatedAt: at("2026-05-01 00:00"), LastRunAt: last("2026-05-20 07:00")}, "2026-06-02 08:00", "2026-06-02 07:00", true},
		{"weekly Monday, on Monday", ReportSchedule{Frequency: "weekly", Weekday: 1, Hour: 7, CreatedAt: at("2026-05-01 00:00"), LastRunAt: last("2026-05-25 07:00")}, "2026-06-01 07:30", "2026-06-01 07:00", true},
		{"weekly Monday, on Sunday", ReportSchedule{Frequency: "weekly", Weekday: 1, Hour: 7, CreatedAt: at("2026-05-01 00:00"), LastRunAt: last("2026-05-25 07:00")}, "2026-05-31 09:00", "2026-05-25 07:00", false},
		{"weekly Monday, Monday before the hour", ReportSchedule{Frequency: "weekly", Weekday: 1, Hour: 7, CreatedAt: at("2026-05-01 00:00"), LastRunAt: last("2026-05-25 07:00")}, "2026-06-01 06:00", "2026-05-25 07:00", false},
		{"weekly Friday from a Monday", ReportSchedule{Frequency: "weekly", Weekday: 5, Hour: 18, CreatedAt: at("2026-05-01 00:00")}, "2026-06-01 10:00", "2026-05-29 18:00", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.Slot(at(tt.now)); !got.Equal(at(tt.slot)) {
				t.Errorf("slot %v, want %s", got, tt.slot)
			}
			if got := tt.r.Due(at(tt.now)); got != tt.due {
				t.Errorf("due %v, want %v", got, tt.due)
			}
		})
	}
	if err := (&ReportSchedule{Frequency: "monthly", GroupID: 1, ChannelID: 1}).Validate(); ErrorCode(err) != EINVALID {
		t.Errorf("monthly: %v", err)
	}
	if err := (&ReportSchedule{Frequency: "daily", Hour: 24, GroupID: 1, ChannelID: 1}).Validate(); ErrorCode(err) != EINVALID {
		t.Errorf("hour 24: %v", err)
	}
}
