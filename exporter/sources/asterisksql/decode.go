package asterisksql

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The drivers hand over values as database/sql's driver.Value types:
// int64, float64, bool, []byte, string, time.Time or nil. Which one a
// column gives depends on the driver and protocol (MySQL's text protocol
// gives []byte for everything; pgx gives typed values; SQLite gives what
// the row stores), so every decoder accepts them all.

// decodeString reads a text column. Numbers are written in decimal; text
// must be valid UTF-8.
func decodeString(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", true
	case string:
		return x, utf8.ValidString(x)
	case []byte:
		return string(x), utf8.Valid(x)
	case int64:
		return strconv.FormatInt(x, 10), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	case time.Time:
		return x.Format(time.DateTime), true
	}
	return "", false
}

// decodeInt reads an integer column (duration, billsec, sequence). ok is
// false for a value that is not an integer; present is false for NULL.
func decodeInt(v any) (n int64, present, ok bool) {
	switch x := v.(type) {
	case nil:
		return 0, false, true
	case int64:
		return x, true, true
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, true, false
		}
		return int64(x), true, true
	case []byte:
		return parseIntText(string(x))
	case string:
		return parseIntText(x)
	}
	return 0, true, false
}

func parseIntText(s string) (int64, bool, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false, true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, true, err == nil
}

// decodeTime reads a timestamp column. tz says whether the column holds
// instants (PostgreSQL timestamptz); otherwise a time.Time or a text
// value is a wall-clock time in the source's zone, whatever location a
// driver attached to it. Integer and decimal values (in integer columns,
// or all-digit text) are Unix epoch seconds, as cdr_pgsql writes them
// into numeric time columns. NULL, the empty string, MySQL's zero date
// and epoch 0 are unset.
func decodeTime(v any, tz bool) (tval, bool) {
	switch x := v.(type) {
	case nil:
		return tval{}, true
	case time.Time:
		if x.Year() <= 1 {
			return tval{}, true
		}
		if tz {
			return instant(x.Unix()), true
		}
		return wall(x), true
	case int64:
		return instant(x), x >= 0
	case float64:
		if x < 0 || x > 1<<40 || math.IsNaN(x) {
			return tval{}, false
		}
		return instant(int64(x)), true
	case []byte:
		return parseTimeText(string(x))
	case string:
		return parseTimeText(x)
	}
	return tval{}, false
}

func instant(u int64) tval {
	if u == 0 {
		return tval{}
	}
	return tval{kind: tInstant, v: u}
}

// wall returns the wall-clock reading of t (its own location's), as
// seconds since 1970-01-01 00:00:00 of that wall clock.
func wall(t time.Time) tval {
	y, m, d := t.Date()
	h, mi, s := t.Clock()
	u := time.Date(y, m, d, h, mi, s, 0, time.UTC).Unix()
	if u == 0 {
		return tval{}
	}
	return tval{kind: tLocal, v: u}
}

// parseTimeText reads "YYYY-MM-DD HH:MM:SS" (or with a 'T', fractional
// seconds, and an optional zone suffix that makes it an instant), or
// epoch seconds.
func parseTimeText(s string) (tval, bool) {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, "0000-00-00") {
		return tval{}, true
	}
	if isEpochText(s) {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f > 1<<40 {
			return tval{}, false
		}
		return instant(int64(f)), true
	}
	if len(s) < 19 {
		return tval{}, false
	}
	if s[10] == 'T' {
		s = s[:10] + " " + s[11:]
	}
	if t, err := time.Parse("2006-01-02 15:04:05.999999999", s); err == nil {
		return wall(t), true
	}
	for _, layout := range []string{"2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999Z07", "2006-01-02 15:04:05.999999999 Z07:00", "2006-01-02 15:04:05.999999999 -0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return instant(t.Unix()), true
		}
	}
	return tval{}, false
}

// isEpochText reports whether s is digits with an optional fraction.
func isEpochText(s string) bool {
	dot := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
		case c == '.' && !dot && i > 0:
			dot = true
		default:
			return false
		}
	}
	return s != ""
}

// Dispositions as cdr_pgsql writes them into an integer column: the
// enum ast_cdr_disposition of include/asterisk/cdr.h, named as
// main/cdr.c ast_cdr_disp2str names it (the internal NULL state, 1, is
// logged as NO ANSWER).
var dispositionCodes = map[int64]string{
	0:  "NO ANSWER",
	1:  "NO ANSWER",
	2:  "FAILED",
	4:  "BUSY",
	8:  "ANSWERED",
	16: "CONGESTION",
	32: "CANCEL",
}

// decodeDisposition reads a disposition as text (ANSWERED, NO ANSWER,
// ...) or as its integer code. It returns the name (for the outcome) and
// the value as the table holds it (for outcome_raw).
func decodeDisposition(v any) (name, raw string, ok bool) {
	raw, ok = decodeString(v)
	if !ok {
		return "", "", false
	}
	raw = strings.TrimSpace(raw)
	if n, err := strconv.ParseInt(raw, 10, 64); err == nil {
		return dispositionCodes[n], raw, true // "" (unknown) for a code Asterisk does not use
	}
	return raw, raw, true
}

// amaFlagCodes are Asterisk's AMA flags by integer code
// (include/asterisk/channel.h enum ama_flags; 0 is none).
var amaFlagCodes = map[int64]string{
	0: "",
	1: "OMIT",
	2: "BILLING",
	3: "DOCUMENTATION",
}

// decodeAMAFlags reads amaflags as text (DOCUMENTATION, ...) or as its
// integer code, and returns it by name; a code Asterisk does not use is
// kept as it is.
func decodeAMAFlags(v any) (string, bool) {
	raw, ok := decodeString(v)
	if !ok {
		return "", false
	}
	raw = strings.TrimSpace(raw)
	if n, err := strconv.ParseInt(raw, 10, 64); err == nil {
		if name, known := amaFlagCodes[n]; known {
			return name, true
		}
	}
	return raw, true
}

// uniqueidTime returns the creation time (Unix seconds) that an Asterisk
// uniqueid encodes ("1736154131.104": epoch.counter), or 0. A uniqueid
// with a system name prefix (systemname= in asterisk.conf gives
// "pbx1-1736154131.104") is read after the last '-'.
func uniqueidTime(uid string) int64 {
	if i := strings.LastIndexByte(uid, '-'); i >= 0 {
		uid = uid[i+1:]
	}
	secs, _, ok := strings.Cut(uid, ".")
	if !ok || len(secs) < 9 || len(secs) > 11 {
		return 0
	}
	n, err := strconv.ParseInt(secs, 10, 64)
	if err != nil {
		return 0
	}
	return n
}
