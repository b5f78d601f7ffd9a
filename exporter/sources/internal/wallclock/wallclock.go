// Package wallclock reads wall-clock times written without a UTC offset
// (as Asterisk writes its CDR times) in a zone, returning every instant
// such a time can stand for instead of relying on time.Date's choice in
// the repeated hour of a clock change. The file connectors that read
// local times share it.
package wallclock

import (
	"math"
	"time"
)

const day = 86400

// Resolver turns wall-clock times written in a zone into instants,
// explicitly: it returns every instant a wall-clock time can stand for
// (none in a spring-forward gap, two in the repeated hour of an autumn
// change) instead of relying on time.Date's choice. It caches the zone
// period of the last answer, so that almost every call is two compares.
// It is not safe for concurrent use.
type Resolver struct {
	Loc         *time.Location
	lo, hi, off int64 // for local seconds in [lo, hi), the one instant is local-off
	cached      bool
}

// Resolve returns the instants (Unix seconds, ascending) whose wall clock
// in the zone is local (seconds since the epoch of that wall clock).
func (z *Resolver) Resolve(local int64) (c [2]int64, n int) {
	if z.cached && local >= z.lo && local < z.hi {
		c[0] = local - z.off
		return c, 1
	}
	return z.slow(local)
}

func (z *Resolver) offsetAt(u int64) int64 {
	_, off := time.Unix(u, 0).In(z.Loc).Zone()
	return int64(off)
}

func (z *Resolver) slow(local int64) (c [2]int64, n int) {
	// The offsets in force a day either side cover both sides of any
	// transition near local (zones change at most once in two days and
	// offsets are under 14 hours). Try each: it is a valid reading if
	// the zone has that offset at the instant it gives.
	o1, o2 := z.offsetAt(local-day), z.offsetAt(local+day)
	if o2 > o1 {
		o1, o2 = o2, o1 // larger offset first: earlier instant first
	}
	for i, o := range [2]int64{o1, o2} {
		if i == 1 && o == o1 {
			break
		}
		if u := local - o; z.offsetAt(u) == o {
			c[n] = u
			n++
		}
	}
	if n == 1 {
		// Cache the stretch of wall-clock time well inside this zone
		// period, where no other reading is possible.
		off := local - c[0]
		start, end := time.Unix(c[0], 0).In(z.Loc).ZoneBounds()
		lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
		if !start.IsZero() {
			lo = start.Unix() + off + 2*day
		}
		if !end.IsZero() {
			hi = end.Unix() + off - 2*day
		}
		if lo <= local && local < hi {
			z.lo, z.hi, z.off, z.cached = lo, hi, off, true
		}
	}
	return c, n
}
