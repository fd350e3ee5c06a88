package jobs

import (
	"testing"
	"time"
)

func TestDigestSchedules(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		name      string
		next      func(time.Time) time.Time
		now, want string
	}{
		{"hourly mid-hour", hourly{}.Next, "2026-11-27T08:37:12Z", "2026-11-27T09:00:00Z"},
		{"hourly on the hour", hourly{}.Next, "2026-11-27T09:00:00Z", "2026-11-27T10:00:00Z"},
		{"hourly from another zone", hourly{}.Next, "2026-11-27T10:30:00+02:00", "2026-11-27T09:00:00Z"},
		{"daily before the hour", daily{hour: 8}.Next, "2026-11-27T07:59:59Z", "2026-11-27T08:00:00Z"},
		{"daily at the hour", daily{hour: 8}.Next, "2026-11-27T08:00:00Z", "2026-11-28T08:00:00Z"},
		{"daily after, month end", daily{hour: 8}.Next, "2026-11-30T12:00:00Z", "2026-12-01T08:00:00Z"},
	} {
		if got := tc.next(at(tc.now)); !got.Equal(at(tc.want)) {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}
