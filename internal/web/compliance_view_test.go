package web

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/service"
)

func TestFailTrends(t *testing.T) {
	ch := func(check string, host int64, st string) domain.CheckChange {
		return domain.CheckChange{CheckID: check, HostID: host, Status: st}
	}
	const f, p, e = domain.CheckFail, domain.CheckPass, domain.CheckError
	tests := []struct {
		name    string
		hist    []domain.CheckChange
		current map[string]map[int64]bool
		n       int
		want    map[string][]int
	}{
		{"fail, fix, fail again", []domain.CheckChange{ch("a", 1, p), ch("a", 2, f), ch("a", 1, f), ch("a", 2, p), ch("a", 2, e)},
			map[string]map[int64]bool{"a": {1: true, 2: true}}, 12, map[string][]int{"a": {0, 1, 2, 1, 1}}},
		{"only the last n", []domain.CheckChange{ch("a", 1, f), ch("a", 1, p), ch("a", 1, f), ch("a", 1, p)},
			map[string]map[int64]bool{"a": {1: true}}, 2, map[string][]int{"a": {1, 0}}},
		{"hosts without a result now are left out", []domain.CheckChange{ch("a", 1, f), ch("a", 9, f), ch("b", 1, p)},
			map[string]map[int64]bool{"a": {1: true}, "b": {1: true}}, 12, map[string][]int{"a": {1}, "b": {0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := failTrends(tt.hist, tt.current, tt.n)
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if !slices.Equal(got[k], v) {
					t.Errorf("%s: got %v, want %v", k, got[k], v)
				}
			}
		})
	}
}

func TestSparkline(t *testing.T) {
	tests := []struct {
		values []int
		points string
		last   string // cx,cy
	}{
		{nil, "", ""},
		{[]int{3}, "2.5,2.5 97.5,2.5", "97.5,2.5"},
		{[]int{0, 2, 1}, "2.5,17.5 50.0,2.5 97.5,10.0", "97.5,10.0"},
		{[]int{0, 0}, "2.5,17.5 97.5,17.5", "97.5,17.5"},
	}
	for _, tt := range tests {
		s := newSparkline(tt.values, 100, 20)
		if tt.values == nil {
			if s != nil {
				t.Errorf("no values: %+v", s)
			}
			continue
		}
		if s.Points != tt.points || s.LastX+","+s.LastY != tt.last || s.N != len(tt.values) {
			t.Errorf("%v: points %q last %s,%s n %d", tt.values, s.Points, s.LastX, s.LastY, s.N)
		}
		words := make([]string, len(tt.values))
		for i, v := range tt.values {
			words[i] = strconv.Itoa(v)
		}
		if !strings.HasSuffix(s.Label, "oldest first: "+strings.Join(words, ", ")) {
			t.Errorf("%v: label %q", tt.values, s.Label)
		}
	}
}

func TestNewScore(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		score       *float64
		text, value string
	}{
		{nil, "", ""},
		{f(100), "100%", "100.0"},
		{f(57.5), "57.5%", "57.5"},
		{f(99.96), "99.9%", "99.9"}, // a failure never reads 100%
		{f(0), "0%", "0.0"},
	}
	for _, tt := range tests {
		s := newScore(&service.ComplianceSummary{Score: tt.score, Totals: service.CheckSummary{Pass: 1, Fail: 2, Error: 3, NotApplicable: 4}})
		if s.Set != (tt.score != nil) || s.Text != tt.text || s.Value != tt.value || s.Pass != 1 || s.Fail != 2 || s.Error != 3 || s.NA != 4 {
			t.Errorf("%v: %+v", tt.score, s)
		}
	}
}
