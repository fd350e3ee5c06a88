package web

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
)

// TestRecentTrendMatchesReplay checks that the sparkline built backwards
// from the current failing count and the last changes is the one the
// replay of the whole history (failTrends) draws, on random histories with
// hosts that no longer have a result.
func TestRecentTrendMatchesReplay(t *testing.T) {
	statuses := []string{domain.CheckPass, domain.CheckFail, domain.CheckError, domain.CheckNotApplicable}
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 7))
		var hist []domain.CheckChange
		last := map[int64]string{}
		for i := range rng.IntN(40) {
			h := int64(rng.IntN(6))
			st := statuses[rng.IntN(len(statuses))]
			if last[h] == st {
				continue // the history records changes only
			}
			last[h] = st
			hist = append(hist, domain.CheckChange{HostID: h, CheckID: "c", Status: st, At: time.Unix(int64(i), 0)})
		}
		current := map[int64]bool{}
		failing := 0
		for h, st := range last {
			if rng.IntN(4) > 0 { // the others were unassigned since
				current[h] = true
				if st == domain.CheckFail {
					failing++
				}
			}
		}
		for _, n := range []int{1, 5, sparkPoints, 100} {
			want := failTrends(hist, map[string]map[int64]bool{"c": current}, n)["c"]
			// The store's view: the last n changes of current hosts, newest first.
			var steps []store.CheckStep
			prev := map[int64]string{}
			for _, c := range hist {
				if current[c.HostID] {
					steps = append([]store.CheckStep{{HostID: c.HostID, Status: c.Status, Previous: prev[c.HostID]}}, steps...)
				}
				prev[c.HostID] = c.Status
			}
			steps = steps[:min(n, len(steps))]
			var got []int
			if len(steps) > 0 {
				got = recentTrend(failing, steps)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d, n %d: got %v, want %v (history %v)", seed, n, got, want, hist)
			}
		}
	}
}
