package asterisk

import (
	"math"
	"time"

	"github.com/dsar-tool/dsar/exporter/sources/internal/wallclock"
)

const day = 86400

// zoneResolver reads the PBX's wall-clock times in its zone
// (wallclock.Resolver); resolveTimes below adds the CDR's rules. It is not
// safe for concurrent use.
type zoneResolver struct{ wallclock.Resolver }

func newZoneResolver(loc *time.Location) zoneResolver {
	return zoneResolver{wallclock.Resolver{Loc: loc}}
}

// resolve returns the instants (Unix seconds, ascending) whose wall clock
// in the zone is local.
func (z *zoneResolver) resolve(local int64) ([2]int64, int) { return z.Resolve(local) }

// resolveTimes turns a row's wall-clock start, answer (if answered) and
// end into instants. The rule, since the file carries no UTC offset:
//
//   - A wall-clock time in a spring-forward gap cannot have been written
//     by Asterisk (it formats real instants): the row is rejected (ok false,
//     bad names the field).
//   - A time in the repeated hour of an autumn change has two readings.
//     Every combination of the readings of start, answer and end is tried,
//     and the one that best agrees with the row's own durations is taken:
//     the least |end-start-duration| + |end-answer-billsec| (Asterisk
//     truncates both to whole seconds, so the right one is within a
//     second or two and a wrong one is an hour out).
//   - If several combinations agree equally (a call wholly inside the
//     repeated hour), file order decides: cdr_csv appends a row when the
//     call ends, so the earliest reading that does not end before the
//     previous row of the file ended (prevEnd) is taken; if every reading
//     ends before it, the latest.
//
// Times that are not ambiguous are never changed, even where the
// durations disagree with them.
func (z *zoneResolver) resolveTimes(sl, al, el int64, answered bool, dur, bill, prevEnd int64) (s, a, e int64, bad string, ok bool) {
	sc, sn := z.resolve(sl)
	if sn == 0 {
		return 0, 0, 0, "start", false
	}
	var ac [2]int64
	an := 1
	if answered {
		if ac, an = z.resolve(al); an == 0 {
			return 0, 0, 0, "answer", false
		}
	}
	ec, en := z.resolve(el)
	if en == 0 {
		return 0, 0, 0, "end", false
	}
	if sn == 1 && an == 1 && en == 1 {
		return sc[0], ac[0], ec[0], "", true
	}
	type combo struct{ s, a, e int64 }
	var ties [8]combo
	nt := 0
	best := int64(math.MaxInt64)
	for i := 0; i < sn; i++ {
		for j := 0; j < an; j++ {
			for k := 0; k < en; k++ {
				cb := combo{sc[i], ac[j], ec[k]}
				cost := abs(cb.e - cb.s - dur)
				if answered {
					cost += abs(cb.e - cb.a - bill)
				}
				switch {
				case cost < best:
					best, nt = cost, 0
					fallthrough
				case cost == best:
					ties[nt] = cb
					nt++
				}
			}
		}
	}
	pick := -1
	for i := 0; i < nt; i++ { // earliest not ending before prevEnd
		if ties[i].e >= prevEnd && (pick < 0 || earlier(ties[i].s, ties[i].e, ties[pick].s, ties[pick].e)) {
			pick = i
		}
	}
	if pick < 0 { // else the latest
		pick = 0
		for i := 1; i < nt; i++ {
			if earlier(ties[pick].s, ties[pick].e, ties[i].s, ties[i].e) {
				pick = i
			}
		}
	}
	cb := ties[pick]
	return cb.s, cb.a, cb.e, "", true
}

func earlier(s1, e1, s2, e2 int64) bool { return s1 < s2 || (s1 == s2 && e1 < e2) }

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
