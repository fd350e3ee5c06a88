package inventory

import (
	"strings"
	"testing"
	"time"
)

func TestValidateSAP(t *testing.T) {
	base := func() *HostReport {
		now := time.Now()
		return &HostReport{SchemaVersion: SchemaVersion, ReportID: "r1", HostID: 1, StartedAt: now, FinishedAt: now, Status: StatusOK}
	}
	tests := []struct {
		name string
		sap  []SAPSystem
		want string
	}{
		{"none", nil, ""},
		{"good", []SAPSystem{{SID: "PRD"}, {SID: "Q01"}}, ""},
		{"lower-case SID", []SAPSystem{{SID: "prd"}}, "sap[0].sid"},
		{"SID starting with a digit", []SAPSystem{{SID: "1AB"}}, "not an SAP system ID"},
		{"long SID", []SAPSystem{{SID: "PRDX"}}, "not an SAP system ID"},
		{"twice", []SAPSystem{{SID: "PRD"}, {SID: "PRD"}}, "sap[1].sid: PRD listed twice"},
		{"too many instances", []SAPSystem{{SID: "PRD", Instances: make([]SAPInstance, MaxSAPInstances+1)}}, "sap[0].instances"},
		{"too many systems", make([]SAPSystem, MaxSAPSystems+1), "more than 100 SAP systems"},
	}
	for _, tc := range tests {
		r := base()
		r.SAP = tc.sap
		err := r.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestHasSAPScan(t *testing.T) {
	r := &HostReport{}
	if r.HasSAPScan() {
		t.Error("no probe")
	}
	r.Probes = []ProbeResult{{Name: SAPProbeName, Error: "exit status 1"}}
	if r.HasSAPScan() {
		t.Error("a failed discovery must not count: it would wipe the known systems")
	}
	r.Probes[0].Error = ""
	if !r.HasSAPScan() {
		t.Error("successful discovery not seen")
	}
}
