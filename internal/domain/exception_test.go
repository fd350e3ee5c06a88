package domain

import (
	"strings"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

// TestPickException: scoping (host, group, all), package-specific against
// any package, precedence, and time.
func TestPickException(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	later := now.Add(48 * time.Hour)
	es := []Exception{
		{ID: 1, Target: ExceptionFinding, Kind: ExceptionAcceptedRisk, VulnID: "CVE-1", Scope: ScopeAll},
		{ID: 2, Target: ExceptionFinding, Kind: ExceptionMitigated, VulnID: "CVE-1", Scope: ScopeGroup, GroupID: ptr[int64](7)},
		{ID: 3, Target: ExceptionFinding, Kind: ExceptionFalsePositive, VulnID: "CVE-1", Package: "openssl", Scope: ScopeHost, HostID: ptr[int64](10),
			ExpiresAt: &later},
		{ID: 4, Target: ExceptionFinding, Kind: ExceptionAcceptedRisk, VulnID: "CVE-2", Package: "sudo", Scope: ScopeGroup, GroupID: ptr[int64](7)},
		{ID: 5, Target: ExceptionCheck, Kind: ExceptionAcceptedRisk, CheckID: "ssh-root", Scope: ScopeHost, HostID: ptr[int64](11)},
		{ID: 6, Target: ExceptionCheck, Kind: ExceptionMitigated, CheckID: "ssh-root", Scope: ScopeHost, HostID: ptr[int64](11),
			RevokedAt: &now},
		// A deleted host or group leaves the scope empty: it covers nothing.
		{ID: 7, Target: ExceptionFinding, Kind: ExceptionAcceptedRisk, VulnID: "CVE-3", Scope: ScopeHost},
		{ID: 8, Target: ExceptionFinding, Kind: ExceptionAcceptedRisk, VulnID: "CVE-3", Scope: ScopeGroup},
		// Two at the same scope: the newer one governs.
		{ID: 9, Target: ExceptionCheck, Kind: ExceptionAcceptedRisk, CheckID: "ntp", Scope: ScopeAll},
		{ID: 10, Target: ExceptionCheck, Kind: ExceptionFalsePositive, CheckID: "ntp", Scope: ScopeAll},
	}
	inGroup := map[int64]bool{7: true}
	tests := []struct {
		name string
		s    Subject
		at   time.Time
		want int64 // 0: none
	}{
		{"host exception beats group and all", Subject{HostID: 10, Groups: inGroup, VulnID: "CVE-1", Package: "openssl"}, now, 3},
		{"host exception is for openssl only", Subject{HostID: 10, Groups: inGroup, VulnID: "CVE-1", Package: "openssh"}, now, 2},
		{"group beats all", Subject{HostID: 12, Groups: inGroup, VulnID: "CVE-1", Package: "openssh"}, now, 2},
		{"outside the group: all hosts", Subject{HostID: 13, VulnID: "CVE-1", Package: "openssh"}, now, 1},
		{"expired host exception falls back to the group", Subject{HostID: 10, Groups: inGroup, VulnID: "CVE-1", Package: "openssl"}, later, 2},
		{"group exception, other package", Subject{HostID: 12, Groups: inGroup, VulnID: "CVE-2", Package: "sudo-ldap"}, now, 0},
		{"group exception, not a member", Subject{HostID: 13, VulnID: "CVE-2", Package: "sudo"}, now, 0},
		{"group exception, member", Subject{HostID: 12, Groups: inGroup, VulnID: "CVE-2", Package: "sudo"}, now, 4},
		{"check on its host; the revoked one is ignored", Subject{HostID: 11, CheckID: "ssh-root"}, now, 5},
		{"check on another host", Subject{HostID: 10, CheckID: "ssh-root"}, now, 0},
		{"a finding exception never covers a check", Subject{HostID: 10, CheckID: "CVE-1"}, now, 0},
		{"deleted host or group covers nothing", Subject{HostID: 0, Groups: map[int64]bool{0: true}, VulnID: "CVE-3", Package: "x"}, now, 0},
		{"newest of equals", Subject{HostID: 1, CheckID: "ntp"}, now, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PickException(es, tt.s, tt.at)
			var id int64
			if got != nil {
				id = got.ID
			}
			if id != tt.want {
				t.Errorf("picked %d, want %d", id, tt.want)
			}
		})
	}
}

func TestExceptionState(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	exp := now.Add(time.Hour)
	e := Exception{ExpiresAt: &exp}
	for _, c := range []struct {
		at   time.Time
		want string
	}{{now, ExceptionActive}, {exp.Add(-time.Nanosecond), ExceptionActive}, {exp, ExceptionExpired}, {exp.Add(time.Hour), ExceptionExpired}} {
		if got := e.StateAt(c.at); got != c.want {
			t.Errorf("state at %v = %s, want %s", c.at, got, c.want)
		}
	}
	e.RevokedAt = &now
	if e.StateAt(now) != ExceptionRevoked || e.Active(now) {
		t.Errorf("revoked exception is %s", e.StateAt(now))
	}
}

func TestExceptionInputValidate(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	ok := ExceptionInput{Target: "finding", Kind: "accepted_risk", VulnID: " CVE-1 ", Scope: "host", HostID: 3, Reason: " vendor ", ExpiresAt: &future}
	e, err := ok.Validate(now)
	if err != nil || e.VulnID != "CVE-1" || e.Reason != "vendor" || *e.HostID != 3 || e.GroupID != nil {
		t.Fatalf("valid input: %+v, %v", e, err)
	}
	bad := []struct {
		name string
		edit func(*ExceptionInput)
		msg  string
	}{
		{"target", func(in *ExceptionInput) { in.Target = "host" }, "target:"},
		{"kind", func(in *ExceptionInput) { in.Kind = "ignore" }, "kind:"},
		{"no vuln", func(in *ExceptionInput) { in.VulnID = "" }, "vuln_id:"},
		{"no check", func(in *ExceptionInput) { in.Target = "check" }, "check_id:"},
		{"scope", func(in *ExceptionInput) { in.Scope = "planet" }, "scope:"},
		{"host scope without host", func(in *ExceptionInput) { in.HostID = 0 }, "host_id:"},
		{"group scope without group", func(in *ExceptionInput) { in.Scope = "group" }, "group_id:"},
		{"no reason", func(in *ExceptionInput) { in.Reason = "  " }, "reason:"},
		{"past expiry", func(in *ExceptionInput) { in.ExpiresAt = &past }, "expires_at:"},
	}
	for _, b := range bad {
		in := ok
		b.edit(&in)
		_, err := in.Validate(now)
		if ErrorCode(err) != EINVALID || err == nil || !strings.Contains(err.Error(), b.msg) {
			t.Errorf("%s: got %v, want EINVALID %q", b.name, err, b.msg)
		}
	}
	// Update: kind and expiry change, scope stays.
	upd := ExceptionInput{Kind: "mitigated", ClearExpiry: true, Scope: "all"}
	if err := upd.ApplyUpdate(e, now); err != nil || e.Kind != "mitigated" || e.ExpiresAt != nil || e.Scope != "host" {
		t.Errorf("update: %+v, %v", e, err)
	}
	if err := (&ExceptionInput{ExpiresAt: &past}).ApplyUpdate(e, now); ErrorCode(err) != EINVALID {
		t.Errorf("update to a past expiry: %v", err)
	}
}
