package compliance

import (
	"fmt"
	"testing"
	"time"
)

// benchPack is the built-in baseline padded to 60 checks with copies of its
// first checks under new IDs (same conditions: the cost per check is what
// matters).
func benchPack(b *testing.B) *CompiledPack {
	cp := builtinBaseline(b)
	p := *cp.Pack
	p.Checks = append([]Check(nil), p.Checks...)
	for i := 0; len(p.Checks) < 60; i++ {
		c := p.Checks[i]
		c.ID += "-variant"
		p.Checks = append(p.Checks, c)
	}
	padded, err := CompilePack(&p)
	if err != nil {
		b.Fatal(err)
	}
	return padded
}

// benchFacts builds n distinct hosts' facts, varied so that checks pass,
// fail, error and are not applicable in realistic proportions.
func benchFacts(b *testing.B, n int) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		h := goodHost()
		if i%3 == 0 {
			sshSet("permitrootlogin", "prohibit-password")(h)
		}
		if i%5 == 0 {
			noTmpMount(h)
		}
		if i%7 == 0 {
			sysctlSet("net.ipv4.ip_forward", "1", "kernel.randomize_va_space", "1")(h)
		}
		if i%11 == 0 {
			h.fail("probe:auditd", "permission denied", true)
		}
		if i%13 == 0 {
			h.os.ID, h.os.VersionID = "almalinux", "9.4"
			h.os.Family = "redhat"
		}
		h.labels["n"] = fmt.Sprint(i)
		out[i] = h.facts(b)
	}
	return out
}

func BenchmarkPack10kHosts(b *testing.B) {
	cp := benchPack(b)
	hosts := benchFacts(b, 10_000)
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		for _, f := range hosts {
			cp.EvaluateAll(f)
		}
	}
	b.ReportMetric(time.Since(start).Seconds()/float64(b.N), "s/10k-hosts")
	b.ReportMetric(float64(len(cp.Programs)), "checks")
}

func BenchmarkPackPerHost(b *testing.B) {
	cp := benchPack(b)
	f := benchFacts(b, 1)[0]
	start := time.Now()
	for b.Loop() {
		cp.EvaluateAll(f)
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/host")
	b.ReportMetric(float64(len(cp.Programs)), "checks")
}

// BenchmarkFacts is the cost of turning one report into facts.
func BenchmarkFacts(b *testing.B) {
	r := goodHost().report(b)
	for b.Loop() {
		Facts(r, Extra{Now: testNow})
	}
}
