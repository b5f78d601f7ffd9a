package cucm

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/dsar-tool/dsar/exporter/sources/internal/textrec"
)

// ipv4 decodes an IPv4 address as CUCM stores it in its INTEGER address
// fields (origIpAddr, destIpAddr, ...): the four address bytes read as a
// little-endian signed 32-bit integer, so 10.41.12.161 is -1593038582. 0
// (no address) and values outside 32 bits give false.
func ipv4(v int64) (string, bool) {
	if v == 0 || v < -1<<31 || v > 1<<32-1 {
		return "", false
	}
	u := uint32(v)
	return strconv.Itoa(int(u&0xff)) + "." + strconv.Itoa(int(u>>8&0xff)) + "." +
		strconv.Itoa(int(u>>16&0xff)) + "." + strconv.Itoa(int(u>>24)), true
}

// colType is a field's type as the file's second line declares it.
type colType uint8

const (
	typeString colType = iota // VARCHAR(n), UNIQUEIDENTIFIER: written in quotes
	typeInt                   // INTEGER: bare digits, possibly empty
	typeOther                 // a type this reader does not know: not checked
)

// parseType reads one entry of the type line.
func parseType(s string) colType {
	t := strings.ToUpper(strings.TrimSpace(s))
	if i := strings.IndexByte(t, '('); i >= 0 && strings.HasSuffix(t, ")") {
		t = t[:i]
	}
	switch t {
	case "INTEGER", "INT", "SMALLINT", "BIGINT", "TINYINT":
		return typeInt
	case "VARCHAR", "NVARCHAR", "CHAR", "NCHAR", "UNIQUEIDENTIFIER", "TEXT":
		return typeString
	}
	return typeOther
}

// The fields the connector reads, by name.
const (
	fRecordType = iota
	fCallManagerID
	fCallID
	fOrigination
	fConnect
	fDisconnect
	fDuration
	fOrigCause
	fDestCause
	fCalling
	fOrigCalled
	fFinalCalled
	fLastRedirect
	fCallingUser
	fFinalUser
	fOrigDevice
	fDestDevice
	fOrigIP
	fDestIP
	fOrigIPText
	fDestIPText
	fPkid
	fComment
	fClientMatter
	nKnown
)

var knownNames = [nKnown]string{
	fRecordType:    "cdrRecordType",
	fCallManagerID: "globalCallID_callManagerId",
	fCallID:        "globalCallID_callId",
	fOrigination:   "dateTimeOrigination",
	fConnect:       "dateTimeConnect",
	fDisconnect:    "dateTimeDisconnect",
	fDuration:      "duration",
	fOrigCause:     "origCause_value",
	fDestCause:     "destCause_value",
	fCalling:       "callingPartyNumber",
	fOrigCalled:    "originalCalledPartyNumber",
	fFinalCalled:   "finalCalledPartyNumber",
	fLastRedirect:  "lastRedirectDn",
	fCallingUser:   "callingPartyUnicodeLoginUserID",
	fFinalUser:     "finalCalledPartyUnicodeLoginUserID",
	fOrigDevice:    "origDeviceName",
	fDestDevice:    "destDeviceName",
	fOrigIP:        "origIpAddr",
	fDestIP:        "destIpAddr",
	fOrigIPText:    "origIpv4v6Addr",
	fDestIPText:    "destIpv4v6Addr",
	fPkid:          "pkid",
	fComment:       "comment",
	fClientMatter:  "clientMatterCode",
}

// required are the fields a CDR file header must have: every CUCM
// release since 4.x writes them.
var required = []int{fRecordType, fCallManagerID, fCallID, fOrigination, fConnect, fDisconnect,
	fDuration, fOrigCause, fDestCause, fCalling, fOrigCalled, fFinalCalled}

// integers are the known fields that must be declared INTEGER.
var integers = []int{fRecordType, fCallManagerID, fCallID, fOrigination, fConnect, fDisconnect,
	fDuration, fOrigCause, fDestCause, fOrigIP, fDestIP}

// layout is the field layout one file's two header lines declare.
type layout struct {
	names []string
	types []colType
	at    [nKnown]int // position of each known field, -1 if absent
	cmr   bool        // a CMR (call management record) file, not CDRs
}

// parseHeader reads a file's first two lines: the field names (each in
// double quotes) and the data types (bare). Names are matched without
// regard to case, since Cisco's documents and files differ in case
// (globalCallId_ClusterID, destConversationId). A header of call
// management records (directoryNum and no callingPartyNumber) gives a
// layout with cmr set.
func parseHeader(names, types []byte) (*layout, error) {
	names = bytes.TrimPrefix(names, []byte("\xef\xbb\xbf"))
	fs, n, e, at := textrec.Split(names, ',', nil, textrec.MaxLine)
	if e != textrec.SplitOK {
		return nil, fmt.Errorf("field names: %s in field %d", e, at+1)
	}
	l := &layout{names: make([]string, n)}
	for i := range l.at {
		l.at[i] = -1
	}
	pos := map[string]int{}
	for i, f := range fs {
		name := strings.TrimSpace(f.Str(names))
		if name == "" {
			return nil, fmt.Errorf("field names: field %d has no name", i+1)
		}
		key := strings.ToLower(name)
		if _, dup := pos[key]; dup {
			return nil, fmt.Errorf("field names: %q appears twice", name)
		}
		pos[key] = i
		l.names[i] = name
	}
	for k, name := range knownNames {
		if i, ok := pos[strings.ToLower(name)]; ok {
			l.at[k] = i
		}
	}
	if l.at[fCalling] < 0 {
		if _, ok := pos["directorynum"]; ok {
			l.cmr = true
			return l, nil
		}
	}
	var missing []string
	for _, k := range required {
		if l.at[k] < 0 {
			missing = append(missing, knownNames[k])
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("not a CDR file header: no field %s", strings.Join(missing, ", "))
	}
	if types == nil {
		return nil, errors.New("no data type line (line 2)")
	}
	tfs, tn, e, at := textrec.Split(types, ',', nil, textrec.MaxLine)
	if e != textrec.SplitOK {
		return nil, fmt.Errorf("data types: %s in field %d", e, at+1)
	}
	if tn != n {
		return nil, fmt.Errorf("%d field names but %d data types", n, tn)
	}
	l.types = make([]colType, n)
	for i, f := range tfs {
		l.types[i] = parseType(f.Str(types))
	}
	for _, k := range integers {
		if i := l.at[k]; i >= 0 && l.types[i] != typeInt {
			return nil, fmt.Errorf("field %s is not declared INTEGER", knownNames[k])
		}
	}
	return l, nil
}

// check validates a record's fields against the declared types and
// returns the reason it cannot be read, or "". INTEGER fields hold bare
// integers or nothing; string fields are quoted (an unquoted empty field
// is tolerated).
func (l *layout) check(rec []byte, fs []textrec.Field) string {
	for i, f := range fs {
		switch l.types[i] {
		case typeInt:
			if f.Quoted {
				return "quoted value in INTEGER field " + l.names[i]
			}
			if f.End > f.Start {
				if _, ok := textrec.ParseInt(f.Raw(rec)); !ok {
					return "non-integer in INTEGER field " + l.names[i]
				}
			}
		case typeString:
			if !f.Quoted && f.End > f.Start {
				return "unquoted value in text field " + l.names[i]
			}
		}
	}
	return ""
}
