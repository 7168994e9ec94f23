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
