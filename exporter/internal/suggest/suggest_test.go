package suggest

import "testing"

func TestClosest(t *testing.T) {
	keys := []string{"host", "port", "user", "key_file", "known_hosts", "dir"}
	for _, tc := range []struct{ in, want string }{
		{"hots", "host"}, // a transposition is two edits
		{"Port", "port"}, // case is ignored
		{"keyfile", "key_file"},
		{"known_host", "known_hosts"},
		{"password", ""}, // nothing near
		{"", ""},         // nothing typed: every key is at least 3 edits away
	} {
		if got := Closest(tc.in, keys); got != tc.want {
			t.Errorf("Closest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"kitten", "sitting", 3}, {"flaw", "lawn", 2}, {"same", "same", 0},
	} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
