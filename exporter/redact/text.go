package redact

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isSep reports whether c may stand between the digits of a written
// telephone number.
func isSep(c byte) bool {
	switch c {
	case ' ', '-', '.', '(', ')':
		return true
	}
	return false
}

// maxSeps is the most separator characters allowed between two blocks of
// digits of one number (" (" in "+44 (0)20", " - " in "020 - 7946").
const maxSeps = 3

// phoneLike reports whether s is one telephone number as written: an
// optional '+' and then only digits and separators, with at least one
// digit (leading and trailing spaces allowed).
func phoneLike(s string) bool {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "+")
	digits := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case isDigit(c):
			digits = true
		case !isSep(c):
			return false
		}
	}
	return digits
}

// digitsOf returns the digits of s.
func digitsOf(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func countDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			n++
		}
	}
	return n
}

// span is a number inside free text: s[start:end] holds its digits, the
// separators between them and any leading '+'.
type span struct {
	start, end int
	digits     int
}

// numbers returns the numbers in s, left to right. A number is a block of
// digits (with a '+' just before it) joined to the blocks that follow it
// across at most maxSeps separators. A block touching a letter (the
// "000001" of "000001a9", the "1" of "i1") is a number on its own, never
// joined to its neighbours: it is part of a word, not of a written number.
// Every digit of s is in exactly one number.
func numbers(s string) []span {
	var out []span
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		g := span{start: i}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		g.end, g.digits = i, i-g.start
		if g.start > 0 && s[g.start-1] == '+' {
			g.start--
		}
		if !letterBefore(s, g.start) && !letterAfter(s, g.end) {
			for {
				j := g.end
				for j < len(s) && j-g.end < maxSeps && isSep(s[j]) {
					j++
				}
				if j == g.end || j == len(s) || !isDigit(s[j]) {
					break
				}
				k := j
				for k < len(s) && isDigit(s[k]) {
					k++
				}
				if letterAfter(s, k) {
					break
				}
				g.digits += k - j
				g.end = k
			}
			i = g.end
		}
		out = append(out, g)
	}
	return out
}

func letterBefore(s string, i int) bool {
	if i == 0 {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return unicode.IsLetter(r)
}

func letterAfter(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r)
}

// maskDigits writes s with every digit after the first keep digits
// replaced by '*', where keep is keepPrefix but never more than half the
// digits.
func maskDigits(b *strings.Builder, s string, keepPrefix int) {
	keep := min(keepPrefix, countDigits(s)/2)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isDigit(c) {
			if keep > 0 {
				keep--
			} else {
				c = '*'
			}
		}
		b.WriteByte(c)
	}
}

// maskText writes s with every character after the first keep replaced by
// '*', where keep is keepPrefix but never more than half the characters.
func maskText(b *strings.Builder, s string, keepPrefix int) {
	n := utf8.RuneCountInString(s)
	keep := min(keepPrefix, n/2)
	i := 0
	for k := 0; k < keep; k++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	b.WriteString(s[:i])
	b.WriteString(strings.Repeat("*", n-keep))
}

// textIndex returns where needle first occurs in s, byte for byte or
// under Unicode simple case folding ("o'brien" occurs in "Prof O'BRIEN"),
// or -1, -1. needle is not empty. (The bytes count too for text that is
// not valid UTF-8, where half a character may begin another.)
func textIndex(s, needle string) (start, end int) {
	i, j := foldIndex(s, needle)
	if k := strings.Index(s, needle); k >= 0 && (i < 0 || k < i) {
		return k, k + len(needle)
	}
	return i, j
}

// foldIndex returns where needle first occurs in s under Unicode simple
// case folding, or -1, -1.
func foldIndex(s, needle string) (start, end int) {
	for i := 0; i < len(s); {
		j, ok := i, true
		for _, n := range needle {
			if j >= len(s) {
				return -1, -1
			}
			r, size := utf8.DecodeRuneInString(s[j:])
			if !foldEqual(r, n) {
				ok = false
				break
			}
			j += size
		}
		if ok {
			return i, j
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return -1, -1
}

func foldEqual(a, b rune) bool {
	if a == b {
		return true
	}
	for f := unicode.SimpleFold(a); f != a; f = unicode.SimpleFold(f) {
		if f == b {
			return true
		}
	}
	return false
}

// foldText is the form of a text value that is hashed: lower case, runs of
// white space made one space, trimmed.
func foldText(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// hasWord reports whether s holds a letter or digit.
func hasWord(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0
}
