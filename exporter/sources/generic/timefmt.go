package generic

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// timeMode is how a time is written.
type timeMode uint8

const (
	timeLayout  timeMode = iota // a Go layout
	timeEpoch                   // seconds since 1970 UTC, optionally with a fraction
	timeEpochMS                 // milliseconds since 1970 UTC
)

// timeParser reads the times of one source.
type timeParser struct {
	mode   timeMode
	layout string
	zoned  bool           // the layout carries an offset, so loc is only a fallback
	loc    *time.Location // the zone of zone-less times
}

// named are the time_format names besides Go layouts.
var named = map[string]string{
	"rfc3339":     time.RFC3339,
	"rfc3339nano": time.RFC3339Nano,
	"datetime":    time.DateTime,
}

// newTimeParser checks time_format and timezone.
func newTimeParser(format, tz string) (timeParser, error) {
	p := timeParser{mode: timeLayout}
	switch f := strings.TrimSpace(format); strings.ToLower(f) {
	case "", "rfc3339", "rfc3339nano":
		p.layout, p.zoned = time.RFC3339, true
	case "epoch", "epoch_s":
		p.mode, p.zoned = timeEpoch, true
	case "epoch_ms":
		p.mode, p.zoned = timeEpochMS, true
	default:
		p.layout = f
		if l, ok := named[strings.ToLower(f)]; ok {
			p.layout = l
		}
		zoned, err := checkLayout(p.layout)
		if err != nil {
			return p, fmt.Errorf("time_format %q: %w", format, err)
		}
		p.zoned = zoned
	}
	tz = strings.TrimSpace(tz)
	switch {
	case tz == "" && !p.zoned:
		return p, fmt.Errorf("timezone is required: time_format %q writes times without an offset (e.g. timezone: Europe/London)", format)
	case tz == "":
		p.loc = time.UTC
	case tz == "Local":
		return p, fmt.Errorf("timezone \"Local\" is not allowed: name the zone (e.g. Europe/London)")
	default:
		loc, err := time.LoadLocation(tz)
		if err != nil {
			return p, fmt.Errorf("timezone %q: %w", tz, err)
		}
		p.loc = loc
	}
	return p, nil
}

// checkLayout reports whether layout is a Go time layout that writes a
// date and a time of day, and whether it carries a numeric zone offset.
func checkLayout(layout string) (zoned bool, err error) {
	ref := time.Date(2006, 1, 2, 15, 4, 5, 0, time.FixedZone("", 3*3600))
	got, err := time.Parse(layout, ref.Format(layout))
	if err != nil {
		return false, fmt.Errorf("not a Go time layout (write the reference time 2006-01-02 15:04:05, e.g. \"02/01/2006 15:04\"), or RFC3339, DateTime, epoch, epoch_ms")
	}
	y, mo, d := got.Date()
	if y != 2006 || mo != 1 || d != 2 || got.Hour() != 15 || got.Minute() != 4 {
		return false, fmt.Errorf("not a Go time layout with a date and a time of day (write the reference time 2006-01-02 15:04:05, e.g. \"02/01/2006 15:04\"), or RFC3339, DateTime, epoch, epoch_ms")
	}
	return got.Equal(ref), nil
}

// parse reads one time. On failure it returns a reason naming what is
// wrong, never the value.
func (p timeParser) parse(s string) (time.Time, string) {
	switch p.mode {
	case timeEpoch:
		sec, frac, ok := strings.Cut(s, ".")
		v, err := strconv.ParseInt(sec, 10, 64)
		if err != nil || (ok && !digits(frac, 9)) || (sec == "-" || sec == "") {
			return time.Time{}, "not a time in epoch seconds"
		}
		var ns int64
		if ok {
			ns, _ = strconv.ParseInt((frac + "00000000")[:9], 10, 64)
			if strings.HasPrefix(sec, "-") {
				ns = -ns
			}
		}
		return time.Unix(v, ns).UTC(), ""
	case timeEpochMS:
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, "not a time in epoch milliseconds"
		}
		return time.UnixMilli(v).UTC(), ""
	}
	if p.zoned {
		t, err := time.ParseInLocation(p.layout, s, p.loc)
		if err != nil {
			return time.Time{}, "not a time in time_format"
		}
		return t.UTC(), ""
	}
	wall, err := time.Parse(p.layout, s)
	if err != nil {
		return time.Time{}, "not a time in time_format"
	}
	t, ok := resolveLocal(wall, p.loc)
	if !ok {
		return time.Time{}, "time does not exist in zone " + p.loc.String() + " (clock change)"
	}
	return t, ""
}

func digits(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// resolveLocal returns the instant at which loc's clocks showed wall's
// fields (wall is read as a wall clock, whatever its zone). A wall clock
// that occurs twice (when the clocks go back) gives the first occurrence;
// one that never occurs (when they go forward) gives false. (time.Date
// leaves both cases unspecified.)
func resolveLocal(wall time.Time, loc *time.Location) (time.Time, bool) {
	y, mo, d := wall.Date()
	w := time.Date(y, mo, d, wall.Hour(), wall.Minute(), wall.Second(), wall.Nanosecond(), time.UTC)
	sec := w.Unix()
	var best time.Time
	found := false
	// The offsets in force a day either side cover any clock change.
	for _, probe := range [2]int64{sec - 86400, sec + 86400} {
		_, off := time.Unix(probe, 0).In(loc).Zone()
		cand := time.Unix(sec-int64(off), int64(w.Nanosecond())).In(loc)
		if _, off2 := cand.Zone(); off2 != off {
			continue
		}
		if !found || cand.Before(best) {
			best, found = cand, true
		}
	}
	return best.UTC(), found
}
