package textrec

import "testing"

func TestParseInt(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"42", 42, true}, {"-7", -7, true}, {"007", 7, true},
		{"999999999999999999", 999999999999999999, true}, {"-999999999999999999", -999999999999999999, true},
		{"1000000000000000000", 0, false}, // 19 digits
		{"", 0, false}, {"-", 0, false}, {"+1", 0, false}, {" 1", 0, false}, {"1 ", 0, false},
		{"1.5", 0, false}, {`"1"`, 0, false}, {"--1", 0, false}, {"1e3", 0, false}, {"12a", 0, false},
		{"1736157600", 1736157600, true}, {"-1593038582", -1593038582, true}, // CUCM: an epoch, an IPv4 address
	} {
		got, ok := ParseInt([]byte(c.in))
		if got != c.want || ok != c.ok {
			t.Errorf("ParseInt(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
