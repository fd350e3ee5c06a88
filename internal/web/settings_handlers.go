package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
)

type settingsPage struct {
	IntervalMinutes string
	Anchor          string
	Next            []string // the next scheduled starts, UTC
	SnapshotDays    string
	HistoryDays     string
	ScheduleError   string
	RetentionError  string
	Feeds           feedProgressView
}

type feedProgress struct {
	Available bool
	Running   bool
	Started   when
	Finished  when
	Error     string
	Rows      []feedProgressRow
}

type feedProgressRow struct {
	feedRow
	// State in the current or last manual run: done, failed or waiting.
	State status
}

func (a *app) feedProgress(r *http.Request, rq *request) (feedProgress, error) {
	st, err := a.svc.FeedSyncStatus(r.Context(), *rq.Actor)
	if err != nil {
		return feedProgress{}, err
	}
	now := a.svc.Now()
	fp := feedProgress{Available: st.Available, Running: st.Running, Started: whenPtr(st.StartedAt, now), Finished: whenPtr(st.FinishedAt, now), Error: truncate(st.Error, 300)}
	for _, f := range st.Feeds {
		row := feedProgressRow{feedRow: feedRow{Feed: f.Feed, LastSuccess: whenPtr(f.LastSuccessAt, now), LastAttempt: whenPtr(f.LastAttemptAt, now),
			Records: f.Records, Error: truncate(f.LastError, 160)}}
		// A feed is done in this run once it recorded an attempt after the
		// run started: the importer writes feed_state at each feed's end.
		switch {
		case st.StartedAt == nil:
		case f.LastAttemptAt != nil && !f.LastAttemptAt.Before(*st.StartedAt) && f.LastError == "":
			row.State = status{"Done", "ok"}
		case f.LastAttemptAt != nil && !f.LastAttemptAt.Before(*st.StartedAt):
			row.State = status{"Failed", "error"}
		case st.Running:
			row.State = status{"Waiting", "stale"}
		default:
			row.State = status{"Not updated", "never"}
		}
		fp.Rows = append(fp.Rows, row)
	}
	return fp, nil
}

func (a *app) settingsPage(r *http.Request, rq *request) (*settingsPage, error) {
	ws, err := a.svc.Store.GetWorkspace(r.Context(), rq.Actor.WorkspaceID)
	if err != nil {
		return nil, err
	}
	ret, err := a.svc.Retention(r.Context(), *rq.Actor)
	if err != nil {
		return nil, err
	}
	p := &settingsPage{IntervalMinutes: strconv.FormatInt(int64(ws.Schedule.Interval()/time.Minute), 10), Anchor: ws.Schedule.Anchor,
		SnapshotDays: strconv.Itoa(ret.SnapshotDays), HistoryDays: strconv.Itoa(ret.HistoryDays)}
	if p.Anchor == "" {
		p.Anchor = "00:00"
	}
	p.Next = nextRuns(a.svc.Now(), ws.Schedule, 3)
	fp, err := a.feedProgress(r, rq)
	if err != nil {
		return nil, err
	}
	p.Feeds = feedProgressView{feedProgress: fp, Req: rq}
	return p, nil
}

// nextRuns lists the schedule's next n start times: anchor plus whole
// intervals, as the agent computes them.
func nextRuns(now time.Time, s inventory.Schedule, n int) []string {
	iv := s.Interval()
	h, m := 0, 0
	if t, err := time.Parse("15:04", s.Anchor); err == nil {
		h, m = t.Hour(), t.Minute()
	}
	now = now.UTC()
	anchor := time.Date(now.Year(), now.Month(), now.Day(), h, m, 0, 0, time.UTC)
	if anchor.After(now) {
		anchor = anchor.Add(-24 * time.Hour)
	}
	next := anchor.Add((now.Sub(anchor)/iv + 1) * iv)
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, next.Add(time.Duration(i)*iv).Format("2006-01-02 15:04 UTC"))
	}
	return out
}

func (a *app) renderSettings(w http.ResponseWriter, r *http.Request, rq *request, code int, flash string, edit func(*settingsPage)) {
	p, err := a.settingsPage(r, rq)
	if err != nil {
		a.serverError(w, r, rq, "settings", err)
		return
	}
	if edit != nil {
		edit(p)
	}
	a.render(w, r, code, "settings", pageData{Title: "Settings", Nav: "settings", Req: rq, Flash: flash, Data: p})
}

func (a *app) handleSettings(w http.ResponseWriter, r *http.Request, rq *request) {
	flash := map[string]string{
		"schedule":  "Schedule saved; agents use it from their next config poll.",
		"retention": "Retention saved; the hourly sweep deletes older rows.",
		"sync":      "Feed sync started; progress shows below.",
	}[r.URL.Query().Get("done")]
	a.renderSettings(w, r, rq, http.StatusOK, flash, nil)
}

func (a *app) handleSetSchedule(w http.ResponseWriter, r *http.Request, rq *request) {
	pf := r.PostForm
	mins, err := strconv.Atoi(strings.TrimSpace(pf.Get("interval_minutes")))
	if err != nil {
		mins = -1
	}
	anchor := strings.TrimSpace(pf.Get("anchor"))
	err = a.svc.SetSchedule(r.Context(), *rq.Actor, inventory.Schedule{IntervalSeconds: int64(mins) * 60, Anchor: anchor})
	if domain.ErrorCode(err) == domain.EINVALID {
		a.renderSettings(w, r, rq, http.StatusBadRequest, "", func(p *settingsPage) {
			p.ScheduleError, p.IntervalMinutes, p.Anchor = domain.ErrorMessage(err), pf.Get("interval_minutes"), anchor
		})
		return
	} else if err != nil {
		a.actionError(w, r, rq, "set schedule", err)
		return
	}
	http.Redirect(w, r, "/settings/general?done=schedule", http.StatusSeeOther)
}

func (a *app) handleSetRetention(w http.ResponseWriter, r *http.Request, rq *request) {
	pf := r.PostForm
	num := func(k string) int {
		n, err := strconv.Atoi(strings.TrimSpace(pf.Get(k)))
		if err != nil {
			return -1
		}
		return n
	}
	err := a.svc.SetRetention(r.Context(), *rq.Actor, domain.Retention{SnapshotDays: num("snapshot_days"), HistoryDays: num("history_days")})
	if domain.ErrorCode(err) == domain.EINVALID {
		a.renderSettings(w, r, rq, http.StatusBadRequest, "", func(p *settingsPage) {
			p.RetentionError, p.SnapshotDays, p.HistoryDays = domain.ErrorMessage(err), pf.Get("snapshot_days"), pf.Get("history_days")
		})
		return
	} else if err != nil {
		a.actionError(w, r, rq, "set retention", err)
		return
	}
	http.Redirect(w, r, "/settings/general?done=retention", http.StatusSeeOther)
}

func (a *app) handleFeedSync(w http.ResponseWriter, r *http.Request, rq *request) {
	if err := a.svc.StartFeedSync(r.Context(), *rq.Actor); err != nil {
		a.actionError(w, r, rq, "feed sync", err)
		return
	}
	http.Redirect(w, r, "/settings/general?done=sync#feeds", http.StatusSeeOther)
}

// handleFeedProgress answers the htmx poll of the feeds table while a
// sync runs; a plain request gets the whole settings page.
func (a *app) handleFeedProgress(w http.ResponseWriter, r *http.Request, rq *request) {
	w.Header().Add("Vary", "HX-Request")
	if r.Header.Get("HX-Request") != "true" {
		http.Redirect(w, r, "/settings/general#feeds", http.StatusSeeOther)
		return
	}
	fp, err := a.feedProgress(r, rq)
	if err != nil {
		a.serverError(w, r, rq, "feed progress", err)
		return
	}
	a.execute(w, r, http.StatusOK, "settings", "feed_progress", feedProgressView{feedProgress: fp, Req: rq})
}

// feedProgressView gives the partial the caller, for the sync button.
type feedProgressView struct {
	feedProgress
	Req *request
}
