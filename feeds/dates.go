package feeds

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

var (
	// 2023-05-25, 2023/05/25, 2023.05.25, 2023年5月25日, each optionally
	// followed by a time 23:31[:00] or 23时31分[00秒].
	cnDateRe = regexp.MustCompile(`^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s*[T\s-]?\s*(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2}(?:\.\d+)?))?\s*秒?)?`)
	// Taiwan's Minguo calendar: 115.03.19, 民國115年3月19日 (year + 1911).
	// Without 民國 only a three-digit year is read so (2011 on).
	rocDateRe = regexp.MustCompile(`^(民國|民国)?\s*(\d{2,3})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$`)
	// 05-25, 5月25日 (list pages that omit the year).
	shortDateRe = regexp.MustCompile(`^(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+(\d{1,2}):(\d{2}))?$`)
	// A Chinese date somewhere inside a longer text ("来源：… 发布时间：2023-05-25 23:31").
	cnDateAnywhereRe = regexp.MustCompile(`\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(?:\s*[T\s]?\s*\d{1,2}\s*[:：时]\s*\d{1,2}(?:\s*[:：分]\s*\d{1,2})?)?`)
	trsURLDateRe     = regexp.MustCompile(`/(\d{6})/t(\d{8})_\d+\.s?html?`)
	weekdayPrefixRe  = regexp.MustCompile(`^(?i)(mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+`)
	trailingZoneRe   = regexp.MustCompile(`\s+\(?([A-Za-z]{1,5})\)?$`)
	numericZoneRe    = regexp.MustCompile(`(?:Z|[+-]\d{2}:?\d{2})$`)
)

// zonedLayouts carry an explicit numeric offset (or Z); they are kept as given.
var zonedLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04Z07:00",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05 Z07:00",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04 -0700",
	"2 Jan 2006 15:04:05 -0700",
	"2 Jan 2006 15:04 -0700",
	"2 Jan 06 15:04:05 -0700",
	"2 January 2006 15:04:05 -0700",
	"Jan 2, 2006 15:04:05 -0700",
	"2006-01-02T15:04:05.999999999 -0700",
}

// localLayouts have no zone; they are read in the source's time zone.
var localLayouts = []string{
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04",
	"2 Jan 2006 15:04:05",
	"2 Jan 2006 15:04",
	"2 Jan 06 15:04:05",
	"2 January 2006 15:04:05",
	"2 Jan 2006",
	"2 January 2006",
	"Jan 2, 2006 15:04:05",
	"Jan 2, 2006 3:04 PM",
	"January 2, 2006 15:04:05",
	"January 2, 2006",
	"Jan 2, 2006",
	"Mon Jan 2 15:04:05 2006",
	"Jan 2 Mon 2006 15:04", // PIXNET: Dec 28 Sat 2013 00:28
}

// Named zones we know; anything else is left to the feed parser's reading.
func namedZone(abbr string, loc *time.Location) *time.Location {
	switch strings.ToUpper(abbr) {
	case "GMT", "UTC", "UT", "Z":
		return time.UTC
	case "CST":
		// China Standard Time for Chinese sources; US Central otherwise.
		if isAsianZone(loc) {
			return loc
		}
		return time.FixedZone("CST", -6*3600)
	case "BJT", "CCT", "HKT", "AWST", "SGT":
		return time.FixedZone(abbr, 8*3600)
	case "JST", "KST":
		return time.FixedZone(abbr, 9*3600)
	case "EST":
		return time.FixedZone("EST", -5*3600)
	case "EDT":
		return time.FixedZone("EDT", -4*3600)
	case "CDT":
		return time.FixedZone("CDT", -5*3600)
	case "MST":
		return time.FixedZone("MST", -7*3600)
	case "MDT":
		return time.FixedZone("MDT", -6*3600)
	case "PST":
		return time.FixedZone("PST", -8*3600)
	case "PDT":
		return time.FixedZone("PDT", -7*3600)
	case "CET":
		return time.FixedZone("CET", 3600)
	case "CEST":
		return time.FixedZone("CEST", 2*3600)
	case "BST":
		return time.FixedZone("BST", 3600)
	}
	return nil
}

func isAsianZone(loc *time.Location) bool {
	if loc == nil {
		return false
	}
	n := loc.String()
	return strings.HasPrefix(n, "Asia/") || n == "PRC" || n == "Hongkong"
}

// ParseDate reads a date as Chinese and international sources write it.
// Strings without a zone (and "CST" when loc is an Asian zone) are read in
// loc; explicit numeric offsets are kept. now supplies the year for
// year-less dates ("05-25") on list pages. The result is in UTC; ok is
// false when nothing could be read.
func ParseDate(raw string, loc *time.Location, now time.Time) (time.Time, bool) {
	if loc == nil {
		loc = time.UTC
	}
	s := cleanDateText(raw)
	if s == "" {
		return time.Time{}, false
	}
	if m := cnDateRe.FindStringSubmatch(s); m != nil {
		rest := strings.TrimSpace(s[len(m[0]):])
		switch {
		case rest == "":
			return cnDate(m, loc)
		case numericZoneRe.MatchString(rest) || strings.HasPrefix(rest, "."):
			// An explicit offset or fractional seconds: the layouts below.
		default:
			if z := namedZone(strings.Trim(rest, "()"), loc); z != nil {
				return cnDate(m, z)
			}
			return cnDate(m, loc) // trailing words ("2023-05-25 星期四")
		}
	}
	if m := rocDateRe.FindStringSubmatch(s); m != nil && (m[1] != "" || len(m[2]) == 3) {
		y, _ := strconv.Atoi(m[2])
		return cnDate([]string{"", strconv.Itoa(y + 1911), m[3], m[4], m[5], m[6], m[7]}, loc)
	}
	if m := shortDateRe.FindStringSubmatch(s); m != nil {
		return shortDate(m, loc, now)
	}
	s = weekdayPrefixRe.ReplaceAllString(s, "")
	for _, l := range zonedLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	zone := loc
	if m := trailingZoneRe.FindStringSubmatch(s); m != nil {
		z := namedZone(m[1], loc)
		if z == nil {
			return time.Time{}, false
		}
		zone = z
		s = strings.TrimSpace(s[:len(s)-len(m[0])])
	}
	for _, l := range localLayouts {
		if t, err := time.ParseInLocation(l, s, zone); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func cleanDateText(raw string) string {
	s := strings.TrimSpace(stripControl(raw))
	s = strings.NewReplacer("\u00a0", " ", "\u3000", " ", "　", " ").Replace(s)
	s = strings.Trim(s, "[]【】()（） \t\r\n")
	for _, p := range []string{"发布时间", "发布日期", "更新时间", "时间", "日期", "发布于", "Published", "Date"} {
		if rest, ok := strings.CutPrefix(s, p); ok {
			s = strings.TrimLeft(rest, ":： \t")
			break
		}
	}
	if !cnDateRe.MatchString(s) {
		// "来源：肇庆市政府 发布时间：2023-05-25" — pick the date out.
		if m := cnDateAnywhereRe.FindString(s); m != "" && !strings.HasPrefix(s, m) {
			s = m
		}
	}
	return strings.Join(strings.Fields(s), " ")
}

func cnDate(m []string, loc *time.Location) (time.Time, bool) {
	num := func(s string) int {
		if s == "" {
			return 0
		}
		if i := strings.IndexByte(s, '.'); i >= 0 {
			s = s[:i]
		}
		n, _ := strconv.Atoi(s)
		return n
	}
	y, mo, d := num(m[1]), num(m[2]), num(m[3])
	h, mi, sec := num(m[4]), num(m[5]), num(m[6])
	if mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59 || sec > 60 || y < 1970 || y > 2200 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, 0, loc)
	if t.Day() != d { // 2023-02-31
		return time.Time{}, false
	}
	return t.UTC(), true
}

func shortDate(m []string, loc *time.Location, now time.Time) (time.Time, bool) {
	if now.IsZero() {
		return time.Time{}, false
	}
	mo, _ := strconv.Atoi(m[1])
	d, _ := strconv.Atoi(m[2])
	h, _ := strconv.Atoi(m[3])
	mi, _ := strconv.Atoi(m[4])
	if mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 {
		return time.Time{}, false
	}
	local := now.In(loc)
	t := time.Date(local.Year(), time.Month(mo), d, h, mi, 0, 0, loc)
	if t.Day() != d {
		return time.Time{}, false
	}
	if t.Sub(now) > 48*time.Hour { // "12-30" read on 2 January is last year
		t = time.Date(local.Year()-1, time.Month(mo), d, h, mi, 0, 0, loc)
	}
	return t.UTC(), true
}

// dateFromTRSURL reads the date from a TRS CMS article link
// (./202305/t20230525_123.html → 2023-05-25, midnight in loc).
func dateFromTRSURL(link string, loc *time.Location) (time.Time, bool) {
	m := trsURLDateRe.FindStringSubmatch(link)
	if m == nil || !strings.HasPrefix(m[2], m[1]) {
		return time.Time{}, false
	}
	t, err := time.ParseInLocation("20060102", m[2], loc)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}
