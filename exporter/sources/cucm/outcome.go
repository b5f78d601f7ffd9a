package cucm

import "strconv"

// outcome maps a CDR's cause values (origCause_value: why the calling
// side cleared; destCause_value: why the called side cleared; ITU-T Q.850
// numbers, plus CUCM's own codes above 127) and whether the call was ever
// connected (dateTimeConnect not 0) to the calls dataset's outcome.
//
//	connected                              answered, whatever the causes (a
//	                                       transfer's split leg ends with
//	                                       393216, a dropped call with 41)
//	not connected, the significant cause (destCause_value first, then
//	origCause_value; 0, 16 and 31 are not significant):
//	  17 user busy                         busy
//	  18 no user responding, 19 no answer  no_answer
//	  34 no circuit, 38 network out of order,
//	  41 temporary failure, 42 switching equipment congestion,
//	  44 requested channel not available,
//	  47 resource unavailable              congestion
//	  any other value 1-127 (1 unallocated number, 3 no route,
//	  21 call rejected, 27 destination out of order,
//	  28 invalid number format, 102 timer expiry, 127 interworking, ...)
//	                                       failed
//	  a CUCM code above 127, or negative   unknown
//	not connected, no significant cause:
//	  origCause_value 16/31 (the caller hung up while it rang)
//	                                       cancelled
//	  destCause_value 16/31, origCause_value 0 (the called side ended the
//	  attempt without answering)           no_answer
//	  both 0                               cancelled
func outcome(orig, dest int64, connected bool) string {
	if connected {
		return "answered"
	}
	cause := int64(0)
	switch {
	case significant(dest):
		cause = dest
	case significant(orig):
		cause = orig
	case normal(orig):
		return "cancelled"
	case normal(dest):
		return "no_answer"
	default:
		return "cancelled"
	}
	switch {
	case cause == 17:
		return "busy"
	case cause == 18 || cause == 19:
		return "no_answer"
	case cause == 34 || cause == 38 || cause == 41 || cause == 42 || cause == 44 || cause == 47:
		return "congestion"
	case cause >= 1 && cause <= 127:
		return "failed"
	}
	return "unknown"
}

// normal reports the Q.850 normal-clearing causes.
func normal(c int64) bool { return c == 16 || c == 31 }

func significant(c int64) bool { return c != 0 && !normal(c) }

// outcomeRaw is the outcome_raw value: both cause values as written.
func outcomeRaw(orig, dest int64) string {
	return "orig=" + strconv.FormatInt(orig, 10) + " dest=" + strconv.FormatInt(dest, 10)
}
