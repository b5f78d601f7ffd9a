package asterisk

import (
	"bytes"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source"
	"github.com/dsar-tool/dsar/exporter/sources/internal/textrec"
)

// prefilter rules out, without allocating, the rows that cannot belong to
// any of the query's subjects, so that only candidates reach the Matcher
// (which has the last word: it also checks validity dates). It mirrors
// the Matcher's normalisation: extensions and endpoints compare whole and
// trimmed; a phone number can only match if its digits end with a
// subject phone's national significant number.
type prefilter struct {
	none    bool // no subjects in the query: no row is wanted
	ids     map[string]bool
	ext     map[string]struct{}
	sip     map[string]struct{}
	nsn     map[string]struct{}
	nsnLens []int
}

func newPrefilter(q source.Query) *prefilter {
	p := &prefilter{
		ids: map[string]bool{},
		ext: map[string]struct{}{},
		sip: map[string]struct{}{},
		nsn: map[string]struct{}{},
	}
	if len(q.Subjects) == 0 {
		p.none = true // the records of nobody are wanted
		return p
	}
	region := q.Matcher.Region()
	lens := map[int]bool{}
	for _, s := range q.Subjects {
		p.ids[s.ID] = true
		for _, id := range s.Identifiers {
			v := strings.TrimSpace(id.Value)
			switch id.Kind {
			case model.KindExtension:
				p.ext[v] = struct{}{}
			case model.KindSIP:
				p.sip[v] = struct{}{}
			case model.KindPhone:
				e164, ok := source.NormalisePhone(v, region)
				if !ok {
					continue // the Matcher cannot match it either
				}
				num, err := phonenumbers.Parse(e164, region)
				if err != nil {
					continue
				}
				n := phonenumbers.GetNationalSignificantNumber(num)
				p.nsn[n] = struct{}{}
				if !lens[len(n)] {
					lens[len(n)] = true
					p.nsnLens = append(p.nsnLens, len(n))
				}
			}
		}
	}
	return p
}

// wants reports whether the query asked for subject.
func (p *prefilter) wants(subject string) bool { return p.ids[subject] }

// candidate reports whether the row may match one of the subjects.
func (p *prefilter) candidate(rec []byte, fs *[maxFields]textrec.Field, scratch *[]byte) bool {
	if p.none {
		return false
	}
	val := func(i int) []byte {
		f := fs[i]
		if !f.Escaped {
			return f.Raw(rec)
		}
		*scratch = f.AppendValue((*scratch)[:0], rec)
		return *scratch
	}
	return p.number(val(colSrc)) || p.number(val(colDst)) ||
		p.endpoint(val(colChannel)) || p.endpoint(val(colDstChannel))
}

func (p *prefilter) number(b []byte) bool {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return false
	}
	if _, ok := p.ext[string(b)]; ok {
		return true
	}
	if len(p.nsnLens) == 0 {
		return false
	}
	var buf [32]byte
	d := buf[:0]
	for _, c := range b {
		if c >= '0' && c <= '9' {
			if len(d) == len(buf) {
				return true // too long to judge here: let the Matcher decide
			}
			d = append(d, c)
		}
	}
	for _, l := range p.nsnLens {
		if len(d) >= l {
			if _, ok := p.nsn[string(d[len(d)-l:])]; ok {
				return true
			}
		}
	}
	return false
}

func (p *prefilter) endpoint(ch []byte) bool {
	if len(p.sip) == 0 {
		return false
	}
	ep := bytes.TrimSpace(endpointBytes(ch))
	if len(ep) == 0 {
		return false
	}
	_, ok := p.sip[string(ep)]
	return ok
}

// endpoint returns the endpoint named by a channel such as
// PJSIP/4321-0000001b (4321) or PJSIP/alice-phone-00000a1c (alice-phone):
// the part between the first '/' and the last '-'. Only the technologies
// whose channels name an endpoint that way count (PJSIP, SIP, IAX2);
// Local/... (a dialplan hop), DAHDI/... (a line) and empty channels have
// none, and neither does a channel without the '-' suffix.
func endpoint(channel string) string {
	return string(endpointBytes([]byte(channel)))
}

func endpointBytes(ch []byte) []byte {
	i := bytes.IndexByte(ch, '/')
	if i <= 0 {
		return nil
	}
	switch tech := ch[:i]; {
	case bytes.EqualFold(tech, []byte("PJSIP")), bytes.EqualFold(tech, []byte("SIP")), bytes.EqualFold(tech, []byte("IAX2")):
	default:
		return nil
	}
	rest := ch[i+1:]
	if k := bytes.IndexByte(rest, '<'); k >= 0 { // PJSIP/4321-0000001b<ZOMBIE> after a masquerade
		rest = rest[:k]
	}
	j := bytes.LastIndexByte(rest, '-')
	if j <= 0 || j == len(rest)-1 {
		return nil
	}
	return rest[:j]
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
