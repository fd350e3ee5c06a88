package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/alert"
	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
)

func testReportSchedules(t *testing.T, s store.Store) {
	ctx := context.Background()
	w, o := newWorkspace(t, s), newWorkspace(t, s)
	g := &domain.Group{WorkspaceID: w.ID, Name: unique("web")}
	must(t, s.CreateGroup(ctx, g))
	og := &domain.Group{WorkspaceID: o.ID, Name: unique("web")}
	must(t, s.CreateGroup(ctx, og))
	ch := &alert.Channel{WorkspaceID: w.ID, Name: "mail", Kind: alert.ChannelEmail, Enabled: true}
	must(t, s.CreateChannel(ctx, ch))
	och := &alert.Channel{WorkspaceID: o.ID, Name: "mail", Kind: alert.ChannelEmail, Enabled: true}
	must(t, s.CreateChannel(ctx, och))

	r := &domain.ReportSchedule{WorkspaceID: w.ID, GroupID: g.ID, ChannelID: ch.ID, Frequency: "weekly", Weekday: 1, Hour: 7,
		CreatedBy: "alice", CreatedAt: at(0)}
	must(t, s.CreateReportSchedule(ctx, r))
	// Another workspace's group or channel is refused.
	wantCode(t, s.CreateReportSchedule(ctx, &domain.ReportSchedule{WorkspaceID: w.ID, GroupID: og.ID, ChannelID: ch.ID,
		Frequency: "daily", CreatedBy: "mallory"}), domain.EINVALID)
	wantCode(t, s.CreateReportSchedule(ctx, &domain.ReportSchedule{WorkspaceID: w.ID, GroupID: g.ID, ChannelID: och.ID,
		Frequency: "daily", CreatedBy: "mallory"}), domain.EINVALID)

	list, err := s.ListReportSchedules(ctx, w.ID)
	must(t, err)
	if len(list) != 1 || list[0].GroupName != g.Name || list[0].ChannelName != "mail" || list[0].LastRunAt != nil {
		t.Fatalf("list %+v", list)
	}
	wantTime(t, "created", list[0].CreatedAt, at(0))
	if other, _ := s.ListReportSchedules(ctx, o.ID); len(other) != 0 {
		t.Errorf("other workspace lists %v", other)
	}

	// A slot is claimed once; a later slot again.
	slot := at(24 * time.Hour)
	ok, err := s.ClaimReportRun(ctx, w.ID, r.ID, slot)
	must(t, err)
	again, err := s.ClaimReportRun(ctx, w.ID, r.ID, slot)
	must(t, err)
	if !ok || again {
		t.Errorf("claims of one slot: %v then %v", ok, again)
	}
	if ok, _ := s.ClaimReportRun(ctx, o.ID, r.ID, slot.Add(time.Hour)); ok {
		t.Error("another workspace claimed the schedule")
	}
	must(t, s.SetReportError(ctx, w.ID, r.ID, "smtp DATA: 451"))
	all, err := s.AllReportSchedules(ctx)
	must(t, err)
	found := false
	for _, x := range all {
		if x.ID == r.ID {
			found = true
			wantTimePtr(t, "last run", x.LastRunAt, slot)
			if x.LastError != "smtp DATA: 451" {
				t.Errorf("last error %q", x.LastError)
			}
		}
	}
	if !found {
		t.Fatal("schedule not in AllReportSchedules")
	}
	if ok, _ := s.ClaimReportRun(ctx, w.ID, r.ID, slot.Add(7*24*time.Hour)); !ok {
		t.Error("next slot not claimed")
	}

	wantCode(t, s.DeleteReportSchedule(ctx, o.ID, r.ID), domain.ENOTFOUND)
	must(t, s.DeleteReportSchedule(ctx, w.ID, r.ID))
	wantCode(t, s.DeleteReportSchedule(ctx, w.ID, r.ID), domain.ENOTFOUND)
	// Deleting the group takes its schedules with it.
	r2 := &domain.ReportSchedule{WorkspaceID: w.ID, GroupID: g.ID, ChannelID: ch.ID, Frequency: "daily", CreatedBy: "alice"}
	must(t, s.CreateReportSchedule(ctx, r2))
	must(t, s.DeleteGroup(ctx, w.ID, g.ID))
	if list, _ := s.ListReportSchedules(ctx, w.ID); len(list) != 0 {
		t.Errorf("schedules of a deleted group: %v", list)
	}
}
