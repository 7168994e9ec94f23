package model

import (
	"sync"
	"time"
)

// chinaOnce loads China Standard Time once; the location never changes, so
// sharing it is not shared state.
var chinaOnce = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		// No zoneinfo on the machine: China has kept UTC+8 without DST since 1991.
		return time.FixedZone("CST", 8*60*60)
	}
	return loc
})

// China returns China Standard Time (Asia/Shanghai, or a fixed UTC+8 zone
// when the machine has no time zone database).
func China() *time.Location { return chinaOnce() }

// LoadLocation is time.LoadLocation, except that Asia/Shanghai (and its
// aliases PRC and Asia/Chongqing) always succeeds, through China.
func LoadLocation(name string) (*time.Location, error) {
	switch name {
	case "Asia/Shanghai", "PRC", "Asia/Chongqing", "Asia/Harbin":
		return China(), nil
	}
	return time.LoadLocation(name)
}
