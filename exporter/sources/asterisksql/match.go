package asterisksql

import (
	"strings"
)

// endpoint and clidName are the asterisk-csv connector's
// (exporter/sources/asterisk, match.go), copied so that both connectors
// read channels and caller IDs alike.

// endpoint returns the endpoint named by a channel such as
// PJSIP/4321-0000001b (4321) or PJSIP/alice-phone-00000a1c (alice-phone):
// the part between the first '/' and the last '-'. Only the technologies
// whose channels name an endpoint that way count (PJSIP, SIP, IAX2);
// Local/... (a dialplan hop), DAHDI/... (a line) and empty channels have
// none, and neither does a channel without the '-' suffix.
func endpoint(ch string) string {
	i := strings.IndexByte(ch, '/')
	if i <= 0 {
		return ""
	}
	switch tech := ch[:i]; {
	case strings.EqualFold(tech, "PJSIP"), strings.EqualFold(tech, "SIP"), strings.EqualFold(tech, "IAX2"):
	default:
		return ""
	}
	rest := ch[i+1:]
	if k := strings.IndexByte(rest, '<'); k >= 0 { // PJSIP/4321-0000001b<ZOMBIE> after a masquerade
		rest = rest[:k]
	}
	j := strings.LastIndexByte(rest, '-')
	if j <= 0 || j == len(rest)-1 {
		return ""
	}
	return strings.TrimSpace(rest[:j])
}

// clidName returns the caller-ID name from a CDR clid. Asterisk writes
// clid as "name" <number> (main/callerid.c ast_callerid_merge), with '"'
// and '\' in the name backslash-escaped (ast_escape_quoted); name <number>
// and a bare number are tolerated. Anything else gives "" and false.
func clidName(clid string) (string, bool) {
	s := strings.TrimSpace(clid)
	if s == "" {
		return "", true
	}
	if s[0] == '"' {
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			switch c := s[i]; c {
			case '\\':
				if i+1 == len(s) {
					return "", false
				}
				i++
				b.WriteByte(s[i])
			case '"':
				rest := strings.TrimSpace(s[i+1:])
				if rest == "" || isAngleNumber(rest) {
					return b.String(), true
				}
				return "", false
			default:
				b.WriteByte(c)
			}
		}
		return "", false // no closing quote
	}
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		if !isAngleNumber(s[i:]) {
			return "", false
		}
		name := strings.TrimSpace(s[:i])
		if strings.ContainsAny(name, "<>") {
			return "", false
		}
		return name, true
	}
	if strings.ContainsAny(s, "<>\"") || !looksLikeNumber(s) {
		return "", false
	}
	return "", true // a bare number
}

// isAngleNumber reports whether s is <...> with no brackets inside.
func isAngleNumber(s string) bool {
	return len(s) >= 2 && s[0] == '<' && s[len(s)-1] == '>' && !strings.ContainsAny(s[1:len(s)-1], "<>")
}

func looksLikeNumber(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || strings.IndexByte("+*#-. ()", c) >= 0) {
			return false
		}
	}
	return true
}
