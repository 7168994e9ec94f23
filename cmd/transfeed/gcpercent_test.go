package main

import "testing"

func TestGCPercent(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want int
		set  bool
	}{
		{"GOGC unset", map[string]string{}, defaultGCPercent, true},
		{"GOGC=100", map[string]string{"GOGC": "100"}, 0, false},
		{"GOGC=off", map[string]string{"GOGC": "off"}, 0, false},
		{"GOGC empty", map[string]string{"GOGC": ""}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, set := gcPercent(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			if got != tc.want || set != tc.set {
				t.Errorf("gcPercent = %d, %v; want %d, %v", got, set, tc.want, tc.set)
			}
		})
	}
}

func TestGCPercentFor(t *testing.T) {
	const mb = 1 << 20
	for _, tc := range []struct {
		name string
		live uint64
		want int
	}{
		{"nothing live yet", 0, maxGCPercent},
		{"a nearly empty heap: capped", 1 * mb, maxGCPercent},
		{"an import's 5 MB: goal 40 MB", 5 * mb, 700},
		{"10 MB: goal 40 MB", 10 * mb, 300},
		{"exactly at the floor with 150", 16 * mb, defaultGCPercent},
		{"just under it", 16*mb - 1, 150},
		{"a large import's 45 MB: 150 itself", 45 * mb, defaultGCPercent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := gcPercentFor(tc.live, defaultGCPercent, minHeapGoal)
			if got != tc.want {
				t.Errorf("gcPercentFor(%d MB) = %d, want %d", tc.live/mb, got, tc.want)
			}
			if tc.live > 0 && got < maxGCPercent {
				if goal := tc.live * uint64(100+got) / 100; goal < minHeapGoal-tc.live/100 {
					t.Errorf("goal %d bytes, under the floor %d", goal, uint64(minHeapGoal))
				}
			}
		})
	}
}
