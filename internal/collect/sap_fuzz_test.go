package collect

import (
	"testing"
)

// Seeds: testdata/fuzz/FuzzParseSAP*/, cut from the constructed SAP
// fixtures. Whatever a host prints, the parsers must not panic and must
// not invent what the server keys on.

func FuzzParseSAP(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		systems, err := ParseSAP(out)
		if err != nil {
			return
		}
		for _, s := range systems {
			if !sidRE.MatchString(s.SID) {
				t.Errorf("SID %q", s.SID)
			}
			if n := len(s.Sources); n != 6 && !(n == 7 && s.Sources[6].Name == SAPSourceRegistry) { // registry: Windows only
				t.Errorf("%s: %d sources", s.SID, len(s.Sources))
			}
			for _, in := range s.Instances {
				if len(in.Number) != 2 {
					t.Errorf("instance %+v", in)
				}
			}
		}
	})
}

func FuzzParseSAPKernel(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		if k, err := ParseDispWorkVersion(out); err == nil && !isDigits(k.Release) {
			t.Errorf("release %q", k.Release)
		}
		if k, err := ParseSAPControlVersionInfo(out); err == nil && (!isDigits(k.Release) || !isDigits(k.PatchLevel)) {
			t.Errorf("version info %+v", k)
		}
		if cs, err := ParseSAPComponentList(out); err == nil {
			for _, c := range cs {
				if c.Name == "" {
					t.Error("component without a name")
				}
			}
		}
		_, _ = ParseHDBVersion(out)
	})
}

func FuzzParseSAPFiles(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		for k := range ParseSAPProfile(out) {
			if k == "" {
				t.Error("empty parameter name")
			}
		}
		for _, s := range ParseSAPServices(out) {
			if !sidRE.MatchString(s.SID) {
				t.Errorf("service %+v", s)
			}
		}
		buf := ParseTPBuffer(out)
		st := transportState(buf, ParseTPLog(out, "PRD"))
		if st.QueueDepth < 0 || st.QueueDepth > len(buf) || st.FailedImports < 0 {
			t.Errorf("transport %+v", st)
		}
	})
}
