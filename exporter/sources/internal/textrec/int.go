package textrec

// ParseInt reads a decimal integer written as C's %d writes it: digits
// with an optional minus sign, nothing else (no plus sign, spaces or
// quotes). Empty input, and numbers of more than 18 digits (which might
// not fit an int64), are not integers.
func ParseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg = true
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}
