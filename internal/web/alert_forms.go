package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-project/vigil/internal/alert"
	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/httpx"
	"github.com/vigil-project/vigil/internal/service"
)

// eventLabels name the event types in the UI.
var eventLabels = map[string]string{
	alert.EventNewFinding:      "New finding at or above a severity",
	alert.EventKEVFinding:      "New KEV-listed finding",
	alert.EventFindingOverdue:  "Finding past its KEV due date or the SLA",
	alert.EventCheckFailed:     "Compliance check failed (and recovered)",
	alert.EventHostUnreachable: "Host unreachable",
	alert.EventHostStale:       "Host stale (no successful scan in N intervals)",
	alert.EventHostKeyChanged:  "SSH host key changed",
	alert.EventAgentOffline:    "Agent offline (no config pull in N minutes)",
	alert.EventFeedFailed:      "Vulnerability feed update failed",
}

type alertRuleRow struct {
	ID       int64
	Name     string
	Event    string
	Mode     string
	Channels string
	Enabled  bool
}

type rulesPage struct {
	Rows     []alertRuleRow
	SLA      []slaField
	SLAError string
}

type slaField struct {
	Severity string
	Days     int
}

func (a *app) handleAlertRules(w http.ResponseWriter, r *http.Request, rq *request) {
	flash := ""
	switch {
	case r.URL.Query().Get("saved") == "1":
		flash = "Rule saved."
	case r.URL.Query().Get("deleted") == "1":
		flash = "Rule deleted; its alerts are kept, resolved."
	case r.URL.Query().Get("sla") == "1":
		flash = "SLA saved."
	}
	a.renderRules(w, r, rq, http.StatusOK, flash, "")
}

func (a *app) renderRules(w http.ResponseWriter, r *http.Request, rq *request, status int, flash, slaErr string) {
	rules, err := a.svc.ListAlertRules(r.Context(), *rq.Actor)
	if err != nil {
		a.failed(w, r, rq, "list rules", err)
		return
	}
	chans, err := a.svc.ListChannels(r.Context(), *rq.Actor)
	if err != nil {
		a.failed(w, r, rq, "list channels", err)
		return
	}
	names := map[int64]string{}
	for _, c := range chans {
		names[c.ID] = c.Name
	}
	p := rulesPage{SLAError: slaErr}
	for _, ru := range rules {
		var cs []string
		for _, id := range ru.ChannelIDs {
			if n, ok := names[id]; ok {
				cs = append(cs, n)
			}
		}
		p.Rows = append(p.Rows, alertRuleRow{ID: ru.ID, Name: ru.Name, Event: eventLabels[ru.Event], Mode: ru.Mode,
			Channels: strings.Join(cs, ", "), Enabled: ru.Enabled})
	}
	set, err := a.svc.AlertSettings(r.Context(), *rq.Actor)
	if err != nil {
		a.failed(w, r, rq, "alert settings", err)
		return
	}
	for _, sev := range []string{"critical", "high", "medium", "low"} {
		p.SLA = append(p.SLA, slaField{Severity: sev, Days: set.SLADays[sev]})
	}
	a.render(w, r, status, "alert_rules", pageData{Title: "Alert rules", Nav: "alerts", Req: rq, Flash: flash, Data: p})
}

func (a *app) handleSaveSLA(w http.ResponseWriter, r *http.Request, rq *request) {
	set := alert.Settings{SLADays: map[string]int{}}
	for _, sev := range []string{"critical", "high", "medium", "low"} {
		v := strings.TrimSpace(r.PostForm.Get("sla_" + sev))
		if v == "" {
			continue
		}
		d, err := strconv.Atoi(v)
		if err != nil {
			a.renderRules(w, r, rq, http.StatusBadRequest, "", "SLA for "+sev+": a whole number of days")
			return
		}
		set.SLADays[sev] = d
	}
	if err := a.svc.SaveAlertSettings(r.Context(), *rq.Actor, set); err != nil {
		if code := domain.ErrorCode(err); code == domain.EINVALID {
			a.renderRules(w, r, rq, http.StatusBadRequest, "", domain.ErrorMessage(err))
			return
		}
		a.failed(w, r, rq, "save SLA", err)
		return
	}
	http.Redirect(w, r, "/alert-rules?sla=1", http.StatusSeeOther)
}

// ruleForm is the rule editor's state: what the user typed, and choices.
type ruleForm struct {
	ID             int64
	Name           string
	Events         []option
	Severities     []option
	KEVOnly        bool
	Groups         []option
	CheckIDs       string
	Labels         string // key=value, one per line
	StaleIntervals string
	OfflineMinutes string
	Feeds          string
	Channels       []option
	Modes          []option
	Renotify       string
	NotifyResolved bool
	Enabled        bool
	Error          string
}

func (a *app) ruleForm(r *http.Request, rq *request, ru *alert.Rule) (*ruleForm, error) {
	f := &ruleForm{ID: ru.ID, Name: ru.Name, KEVOnly: ru.Filter.KEVOnly, CheckIDs: strings.Join(ru.Filter.CheckIDs, ", "),
		Feeds: strings.Join(ru.Filter.Feeds, ", "), NotifyResolved: ru.NotifyResolved, Enabled: ru.Enabled}
	for _, e := range alert.EventTypes {
		f.Events = append(f.Events, option{e, eventLabels[e], e == ru.Event})
	}
	f.Severities = append(f.Severities, option{"", "any", ru.Filter.MinSeverity == ""})
	for _, s := range []string{"critical", "high", "medium", "low"} {
		f.Severities = append(f.Severities, option{s, s + " and above", ru.Filter.MinSeverity == s})
	}
	for _, m := range []string{alert.ModeImmediate, alert.ModeHourly, alert.ModeDaily} {
		label := map[string]string{alert.ModeImmediate: "immediately", alert.ModeHourly: "hourly digest", alert.ModeDaily: "daily digest"}[m]
		f.Modes = append(f.Modes, option{m, label, m == ru.Mode || (ru.Mode == "" && m == alert.ModeImmediate)})
	}
	var labels []string
	for k, v := range ru.Filter.Labels {
		labels = append(labels, k+"="+v)
	}
	slices.Sort(labels)
	f.Labels = strings.Join(labels, "\n")
	if ru.Filter.StaleIntervals > 0 {
		f.StaleIntervals = strconv.Itoa(ru.Filter.StaleIntervals)
	}
	if ru.Filter.OfflineMinutes > 0 {
		f.OfflineMinutes = strconv.Itoa(ru.Filter.OfflineMinutes)
	}
	if ru.RenotifyMinutes > 0 {
		f.Renotify = strconv.Itoa(ru.RenotifyMinutes)
	}
	groups, err := a.svc.Store.ListGroups(r.Context(), rq.Actor.WorkspaceID)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		f.Groups = append(f.Groups, option{strconv.FormatInt(g.ID, 10), g.Name, slices.Contains(ru.Filter.GroupIDs, g.ID)})
	}
	chans, err := a.svc.ListChannels(r.Context(), *rq.Actor)
	if err != nil {
		return nil, err
	}
	for _, c := range chans {
		f.Channels = append(f.Channels, option{strconv.FormatInt(c.ID, 10), c.Name + " (" + c.Kind + ")", slices.Contains(ru.ChannelIDs, c.ID)})
	}
	return f, nil
}

func (a *app) handleRuleForm(w http.ResponseWriter, r *http.Request, rq *request) {
	if r.PathValue("id") == "" && !rq.Can(domain.PermSettings) {
		a.denied(w, r, rq) // the form for a new rule is of no use without the right
		return
	}
	ru := &alert.Rule{Enabled: true, NotifyResolved: true, Event: alert.EventKEVFinding}
	if r.PathValue("id") != "" {
		id, ok := idOf(r)
		if !ok {
			a.notFound(w, r, rq)
			return
		}
		var err error
		if ru, err = a.svc.GetAlertRule(r.Context(), *rq.Actor, id); err != nil {
			a.failed(w, r, rq, "get rule", err)
			return
		}
	}
	a.renderRuleForm(w, r, rq, http.StatusOK, ru, "")
}

func (a *app) renderRuleForm(w http.ResponseWriter, r *http.Request, rq *request, status int, ru *alert.Rule, msg string) {
	f, err := a.ruleForm(r, rq, ru)
	if err != nil {
		a.failed(w, r, rq, "rule form", err)
		return
	}
	f.Error = msg
	title := "New alert rule"
	if ru.ID != 0 {
		title = "Alert rule " + ru.Name
	}
	a.render(w, r, status, "alert_rule_edit", pageData{Title: title, Nav: "alerts", Req: rq, Data: f})
}

func atoiOr0(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	return strconv.Atoi(s)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == ' ' || r == '\r' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ruleFromForm reads the editor's form; a number that is not one is named.
func ruleFromForm(pf map[string][]string) (alert.Rule, string) {
	get := func(k string) string {
		if v := pf[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	ru := alert.Rule{Name: get("name"), Event: get("event"), Mode: get("mode"), Enabled: get("enabled") != "",
		NotifyResolved: get("notify_resolved") != ""}
	ru.Filter.MinSeverity = get("min_severity")
	ru.Filter.KEVOnly = get("kev_only") != ""
	ru.Filter.CheckIDs = splitList(get("check_ids"))
	ru.Filter.Feeds = splitList(get("feeds"))
	for _, line := range strings.Split(get("labels"), "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return ru, "Labels: write one key=value per line (" + line + ")"
		}
		if ru.Filter.Labels == nil {
			ru.Filter.Labels = map[string]string{}
		}
		ru.Filter.Labels[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	var err error
	for _, n := range []struct {
		field string
		label string
		dst   *int
	}{{"stale_intervals", "Stale after", &ru.Filter.StaleIntervals}, {"offline_minutes", "Offline after", &ru.Filter.OfflineMinutes},
		{"renotify_minutes", "Re-notify every", &ru.RenotifyMinutes}} {
		if *n.dst, err = atoiOr0(get(n.field)); err != nil {
			return ru, n.label + ": a whole number is required"
		}
	}
	for _, v := range pf["group_ids"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return ru, "Groups: not a valid group"
		}
		ru.Filter.GroupIDs = append(ru.Filter.GroupIDs, id)
	}
	for _, v := range pf["channel_ids"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return ru, "Channels: not a valid channel"
		}
		ru.ChannelIDs = append(ru.ChannelIDs, id)
	}
	return ru, ""
}

func (a *app) handleSaveRule(w http.ResponseWriter, r *http.Request, rq *request) {
	ru, msg := ruleFromForm(r.PostForm)
	var id int64
	if r.PathValue("id") != "" {
		var ok bool
		if id, ok = idOf(r); !ok {
			a.notFound(w, r, rq)
			return
		}
		ru.ID = id
	}
	if msg != "" {
		a.renderRuleForm(w, r, rq, http.StatusBadRequest, &ru, msg)
		return
	}
	var err error
	if id == 0 {
		_, err = a.svc.CreateAlertRule(r.Context(), *rq.Actor, ru)
	} else {
		_, err = a.svc.UpdateAlertRule(r.Context(), *rq.Actor, id, ru)
	}
	if err != nil {
		switch domain.ErrorCode(err) {
		case domain.EINVALID, domain.ECONFLICT:
			a.renderRuleForm(w, r, rq, httpx.StatusFor(err), &ru, domain.ErrorMessage(err))
		default:
			a.failed(w, r, rq, "save rule", err)
		}
		return
	}
	http.Redirect(w, r, "/alert-rules?saved=1", http.StatusSeeOther)
}

// channelForm is the channel editor's state. Secret fields are never
// filled in: an empty one keeps the stored secret.
type channelForm struct {
	ID        int64
	Name      string
	Kinds     []option
	Kind      string
	Enabled   bool
	URL       string
	SMTPHost  string
	SMTPPort  string
	Security  []option
	Username  string
	From      string
	To        string
	HasSecret bool
	Error     string
}

func newChannelForm(c *alert.Channel) *channelForm {
	f := &channelForm{ID: c.ID, Name: c.Name, Kind: c.Kind, Enabled: c.Enabled, URL: c.Config.URL, SMTPHost: c.Config.SMTPHost,
		Username: c.Config.Username, From: c.Config.From, To: strings.Join(c.Config.To, ", "), HasSecret: c.HasSecret}
	if c.Config.SMTPPort > 0 {
		f.SMTPPort = strconv.Itoa(c.Config.SMTPPort)
	}
	labels := map[string]string{alert.ChannelWebhook: "Webhook (signed JSON)", alert.ChannelSlack: "Slack incoming webhook",
		alert.ChannelTeams: "Microsoft Teams incoming webhook", alert.ChannelEmail: "E-mail (SMTP)"}
	for _, k := range alert.ChannelKinds {
		f.Kinds = append(f.Kinds, option{k, labels[k], k == c.Kind})
	}
	sec := c.Config.Security
	if sec == "" {
		sec = alert.SecuritySTARTTLS
	}
	for _, s := range []struct{ v, l string }{{alert.SecuritySTARTTLS, "STARTTLS (port 587)"}, {alert.SecurityTLS, "TLS (port 465)"},
		{alert.SecurityNone, "none: local relay, no password"}} {
		f.Security = append(f.Security, option{s.v, s.l, s.v == sec})
	}
	return f
}

func (a *app) handleChannelForm(w http.ResponseWriter, r *http.Request, rq *request) {
	if r.PathValue("id") == "" && !rq.Can(domain.PermSettings) {
		a.denied(w, r, rq)
		return
	}
	c := &alert.Channel{Enabled: true, Kind: alert.ChannelWebhook}
	if r.PathValue("id") != "" {
		id, ok := idOf(r)
		if !ok {
			a.notFound(w, r, rq)
			return
		}
		var err error
		if c, err = a.svc.GetChannel(r.Context(), *rq.Actor, id); err != nil {
			a.failed(w, r, rq, "get channel", err)
			return
		}
	}
	a.renderChannelForm(w, r, rq, http.StatusOK, newChannelForm(c))
}

func (a *app) renderChannelForm(w http.ResponseWriter, r *http.Request, rq *request, status int, f *channelForm) {
	title := "New notification channel"
	if f.ID != 0 {
		title = "Channel " + f.Name
	}
	a.render(w, r, status, "channel_edit", pageData{Title: title, Nav: "settings", Req: rq, Data: f})
}

func (a *app) handleSaveChannel(w http.ResponseWriter, r *http.Request, rq *request) {
	pf := r.PostForm
	in := service.ChannelInput{Name: pf.Get("name"), Kind: pf.Get("kind"), Config: alert.ChannelConfig{
		URL: strings.TrimSpace(pf.Get("url")), SMTPHost: strings.TrimSpace(pf.Get("smtp_host")), Security: pf.Get("security"),
		Username: strings.TrimSpace(pf.Get("username")), From: strings.TrimSpace(pf.Get("from")), To: splitList(pf.Get("to"))}}
	enabled := pf.Get("enabled") != ""
	in.Enabled = &enabled
	sec := alert.ChannelSecrets{WebhookSecret: pf.Get("webhook_secret"), Password: pf.Get("password"), URL: strings.TrimSpace(pf.Get("secret_url"))}
	in.Secrets = &sec
	c := &alert.Channel{Name: in.Name, Kind: in.Kind, Enabled: enabled, Config: in.Config}
	port, perr := atoiOr0(pf.Get("smtp_port"))
	in.Config.SMTPPort = port
	var id int64
	if r.PathValue("id") != "" {
		var ok bool
		if id, ok = idOf(r); !ok {
			a.notFound(w, r, rq)
			return
		}
		c.ID = id
		if old, err := a.svc.GetChannel(r.Context(), *rq.Actor, id); err == nil {
			c.HasSecret = old.HasSecret
		}
	}
	f := newChannelForm(c)
	f.SMTPPort = pf.Get("smtp_port")
	if perr != nil {
		f.Error = "SMTP port: a number is required"
		a.renderChannelForm(w, r, rq, http.StatusBadRequest, f)
		return
	}
	var err error
	if id == 0 {
		_, err = a.svc.CreateChannel(r.Context(), *rq.Actor, in)
	} else {
		_, err = a.svc.UpdateChannel(r.Context(), *rq.Actor, id, in)
	}
	if err != nil {
		switch domain.ErrorCode(err) {
		case domain.EINVALID, domain.ECONFLICT:
			f.Error = domain.ErrorMessage(err)
			a.renderChannelForm(w, r, rq, httpx.StatusFor(err), f)
		default:
			a.failed(w, r, rq, "save channel", err)
		}
		return
	}
	http.Redirect(w, r, "/settings/channels?saved=1", http.StatusSeeOther)
}
