package asterisksql

import (
	"math"
	"time"

	"github.com/dsar-tool/dsar/exporter/sources/internal/wallclock"
)

const day = 86400

// zoneResolver reads the PBX's wall-clock times in its zone
// (wallclock.Resolver, shared with the asterisk-csv connector);
// resolveTimes below adds the CDR's rules. It is not safe for concurrent
// use.
type zoneResolver struct{ wallclock.Resolver }

func newZoneResolver(loc *time.Location) zoneResolver {
	return zoneResolver{wallclock.Resolver{Loc: loc}}
}

// resolve returns the instants (Unix seconds, ascending) whose wall clock
// in the zone is local.
func (z *zoneResolver) resolve(local int64) ([2]int64, int) { return z.Resolve(local) }

// tval is one timestamp as a row holds it: unset, a wall-clock time in
// the source's zone (seconds since 1970-01-01 00:00:00 of that wall
// clock), or an instant (Unix seconds).
type tval struct {
	kind tkind
	v    int64
}

type tkind uint8

const (
	tUnset tkind = iota
	tLocal
	tInstant
)

// candidates returns the instants v can stand for: one for an instant,
// one or two for a wall-clock time (none in a spring-forward gap).
func (z *zoneResolver) candidates(v tval) (c [2]int64, n int) {
	switch v.kind {
	case tInstant:
		c[0] = v.v
		return c, 1
	case tLocal:
		return z.resolve(v.v)
	}
	return c, 0
}

// times are a row's resolved instants (Unix seconds).
type times struct {
	start, answer, end int64
	answered           bool
}

// rowTimes are the time fields of one row as read.
type rowTimes struct {
	start, answer, end tval
	dur, bill          int64
	hasDur, hasBill    bool
	// deriveAnswer is set when the table has no answer column (the
	// classic schema) and the disposition says the call was answered:
	// then answer = end - billsec.
	deriveAnswer bool
	// hint is the creation time (Unix seconds) that uniqueid encodes, or 0.
	hint int64
}

// resolveTimes turns a row's times into instants. Times that are
// instants already (timestamptz columns, epoch values) are taken as they
// are; wall-clock times are read in the zone, where:
//
//   - a time in a spring-forward gap cannot have been written by Asterisk
//     (it formats real instants): the row is rejected (bad names the
//     column);
//   - a time in the repeated hour of an autumn change has two readings:
//     every combination of the readings of start, answer and end is
//     tried and the one that best agrees with the row's own duration and
//     billsec is taken (Asterisk truncates both to whole seconds, so the
//     right one is within a second or two and a wrong one an hour out);
//   - if several agree equally (a call wholly inside the repeated hour, or
//     a classic table with only calldate), the reading of start nearest
//     the channel creation time that uniqueid encodes (epoch.counter)
//     wins, and failing that the earliest.
//
// A missing end is start + duration; a missing answer (classic schema)
// is end - billsec for an answered call.
func (z *zoneResolver) resolveTimes(r rowTimes) (t times, bad string, ok bool) {
	sc, sn := z.candidates(r.start)
	if sn == 0 {
		return t, "start", false
	}
	ac, an := z.candidates(r.answer)
	if r.answer.kind != tUnset && an == 0 {
		return t, "answer", false
	}
	ec, en := z.candidates(r.end)
	if r.end.kind != tUnset && en == 0 {
		return t, "end", false
	}
	hasA, hasE := an > 0, en > 0
	if !hasA {
		an = 1
	}
	if !hasE {
		en = 1
	}
	best := times{}
	bestCost, bestDist := int64(math.MaxInt64), int64(math.MaxInt64)
	found := false
	for i := 0; i < sn; i++ {
		for k := 0; k < en; k++ {
			e := ec[k]
			if !hasE {
				e = sc[i]
				if r.hasDur {
					e += r.dur
				}
			}
			for j := 0; j < an; j++ {
				c := times{start: sc[i], end: e}
				var cost int64
				if hasE && r.hasDur {
					cost += abs(e - sc[i] - r.dur)
				}
				switch {
				case hasA:
					c.answer, c.answered = ac[j], true
					if r.hasBill {
						cost += abs(e - ac[j] - r.bill)
					}
				case r.deriveAnswer && r.hasBill:
					c.answer, c.answered = e-r.bill, true
				}
				dist := int64(0)
				if r.hint != 0 {
					dist = abs(c.start - r.hint)
				}
				if !found || cost < bestCost || cost == bestCost && (dist < bestDist ||
					dist == bestDist && earlier(c.start, c.end, best.start, best.end)) {
					best, bestCost, bestDist, found = c, cost, dist, true
				}
			}
		}
	}
	return best, "", true
}

func earlier(s1, e1, s2, e2 int64) bool { return s1 < s2 || (s1 == s2 && e1 < e2) }

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
