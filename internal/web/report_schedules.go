package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/vigil-project/vigil/internal/alert"
	"github.com/vigil-project/vigil/internal/domain"
)

// reportsPage lists the groups' printable reports and the scheduled
// e-mails, with the form to add one.
type reportsPage struct {
	Groups    []reportGroupLink
	Schedules []scheduleRow
	Channels  []optionView // e-mail channels only
	GroupOpts []optionView
	Weekdays  []optionView
	Form      scheduleForm
	CanEdit   bool
}

type reportGroupLink struct {
	Name    string
	URL     string
	Members int
}

type scheduleRow struct {
	ID        int64
	Group     string
	GroupURL  string
	Channel   string
	When      string
	CreatedBy string
	LastRun   string
	LastError string
}

type scheduleForm struct {
	GroupID   int64
	ChannelID int64
	Frequency string
	Weekday   int
	Hour      int
	Error     string
}

var weekdayNames = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}

func scheduleWhen(r *domain.ReportSchedule) string {
	at := strconv.Itoa(r.Hour) + ":00 UTC"
	if r.Hour < 10 {
		at = "0" + at
	}
	if r.Frequency == domain.ReportWeekly {
		return "every " + weekdayNames[r.Weekday] + " at " + at
	}
	return "every day at " + at
}

func (a *app) handleReports(w http.ResponseWriter, r *http.Request, rq *request) {
	flash := ""
	if r.URL.Query().Get("scheduled") == "1" {
		flash = "Report scheduled. It goes out at its next hour."
	}
	a.renderReports(w, r, rq, http.StatusOK, scheduleForm{Frequency: domain.ReportWeekly, Weekday: 1, Hour: 7}, flash)
}

func (a *app) renderReports(w http.ResponseWriter, r *http.Request, rq *request, code int, form scheduleForm, flash string) {
	ctx := r.Context()
	groups, err := a.svc.Store.ListGroups(ctx, rq.Actor.WorkspaceID)
	if err != nil {
		a.serverError(w, r, rq, "list groups", err)
		return
	}
	scheds, err := a.svc.ListReportSchedules(ctx, *rq.Actor)
	if err != nil {
		a.serverError(w, r, rq, "list report schedules", err)
		return
	}
	p := reportsPage{Form: form, CanEdit: rq.Can(domain.PermSettings)}
	for _, g := range groups {
		p.Groups = append(p.Groups, reportGroupLink{Name: g.Name, URL: "/reports/groups/" + strconv.FormatInt(g.ID, 10), Members: g.Members})
		p.GroupOpts = append(p.GroupOpts, optionView{Value: strconv.FormatInt(g.ID, 10), Label: g.Name, Selected: g.ID == form.GroupID})
	}
	for i := range scheds {
		s := &scheds[i]
		row := scheduleRow{ID: s.ID, Group: s.GroupName, GroupURL: "/reports/groups/" + strconv.FormatInt(s.GroupID, 10),
			Channel: s.ChannelName, When: scheduleWhen(s), CreatedBy: s.CreatedBy, LastError: s.LastError}
		if s.LastRunAt != nil {
			row.LastRun = s.LastRunAt.UTC().Format("2006-01-02 15:04")
		}
		p.Schedules = append(p.Schedules, row)
	}
	if p.CanEdit {
		chans, err := a.svc.ListChannels(ctx, *rq.Actor)
		if err != nil {
			a.serverError(w, r, rq, "list channels", err)
			return
		}
		for _, c := range chans {
			if c.Kind == alert.ChannelEmail {
				p.Channels = append(p.Channels, optionView{Value: strconv.FormatInt(c.ID, 10), Label: c.Name, Selected: c.ID == form.ChannelID})
			}
		}
	}
	for i, d := range weekdayNames {
		p.Weekdays = append(p.Weekdays, optionView{Value: strconv.Itoa(i), Label: d, Selected: i == form.Weekday})
	}
	a.render(w, r, code, "reports", pageData{Title: "Reports", Nav: "reports", Req: rq, Flash: flash, Data: p})
}

func (a *app) handleCreateSchedule(w http.ResponseWriter, r *http.Request, rq *request) {
	if !rq.Can(domain.PermSettings) {
		a.forbidden(w, r, rq)
		return
	}
	pf := r.PostForm
	f := scheduleForm{Frequency: pf.Get("frequency")}
	f.GroupID, _ = strconv.ParseInt(pf.Get("group_id"), 10, 64)
	f.ChannelID, _ = strconv.ParseInt(pf.Get("channel_id"), 10, 64)
	f.Weekday, _ = strconv.Atoi(pf.Get("weekday"))
	hour, err := strconv.Atoi(strings.TrimSpace(pf.Get("hour")))
	if err != nil {
		hour = -1
	}
	f.Hour = hour
	_, err = a.svc.CreateReportSchedule(r.Context(), *rq.Actor, domain.ReportSchedule{GroupID: f.GroupID, ChannelID: f.ChannelID,
		Frequency: f.Frequency, Weekday: f.Weekday, Hour: f.Hour})
	switch code := domain.ErrorCode(err); {
	case err == nil:
		http.Redirect(w, r, "/reports?scheduled=1", http.StatusSeeOther)
	case code == domain.EFORBIDDEN:
		a.forbidden(w, r, rq)
	case code == domain.EINVALID:
		f.Error = domain.ErrorMessage(err)
		a.renderReports(w, r, rq, http.StatusBadRequest, f, "")
	default:
		a.serverError(w, r, rq, "create report schedule", err)
	}
}

func (a *app) handleDeleteSchedule(w http.ResponseWriter, r *http.Request, rq *request) {
	if !rq.Can(domain.PermSettings) {
		a.forbidden(w, r, rq)
		return
	}
	id, err := strconv.ParseInt(r.PostForm.Get("id"), 10, 64)
	if err != nil || id <= 0 {
		a.notFound(w, r, rq)
		return
	}
	err = a.svc.DeleteReportSchedule(r.Context(), *rq.Actor, id)
	switch code := domain.ErrorCode(err); {
	case err == nil:
		http.Redirect(w, r, "/reports", http.StatusSeeOther)
	case code == domain.ENOTFOUND:
		a.notFound(w, r, rq)
	case code == domain.EFORBIDDEN:
		a.forbidden(w, r, rq)
	default:
		a.serverError(w, r, rq, "delete report schedule", err)
	}
}
