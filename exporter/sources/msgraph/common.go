package msgraph

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source"
)

// decode unmarshals one record into v and returns a reason when it does
// not fit: the field's name and the type wanted, never the value found.
func decode(raw []byte, v any) string {
	err := json.Unmarshal(raw, v)
	if err == nil {
		return ""
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			return "not a JSON object"
		}
		return "field " + field + " is not " + typeName(te.Type)
	}
	return "a field is not of the type Graph defines"
}

var numberType = reflect.TypeOf(json.Number(""))

func typeName(t reflect.Type) string {
	if t == numberType {
		return "a number"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "an array"
	case reflect.Struct, reflect.Map, reflect.Pointer:
		return "an object"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Float64:
		return "a number"
	}
	return "of the right type"
}

// minTime is the earliest time accepted: Graph writes
// 0001-01-01T00:00:00Z for an unset time.
var minTime = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)

// parseTime reads a Graph time: RFC 3339 with a "Z" or an offset and up
// to 9 fractional digits ("2025-01-06T09:15:02.1234567Z"), or
// "/Date(1736154902123)/" as Windows PowerShell's ConvertTo-Json writes a
// DateTime. It returns the time in UTC to the second, and false for an
// unset, malformed or zone-less time.
func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "/Date("); ok {
		rest, ok = strings.CutSuffix(rest, ")/")
		if !ok {
			return time.Time{}, false
		}
		if i := strings.IndexAny(rest[min(1, len(rest)):], "+-"); i >= 0 {
			rest = rest[:i+1] // the offset does not change the instant
		}
		ms, err := strconv.ParseInt(rest, 10, 64)
		if err != nil || ms < minTime.UnixMilli() || ms > 1<<50 {
			return time.Time{}, false
		}
		return time.UnixMilli(ms).UTC().Truncate(time.Second), true
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Before(minTime) || t.Year() > 9999 {
		return time.Time{}, false
	}
	return t.UTC().Truncate(time.Second), true
}

// number shows a telephone number in E.164 where it is one, else as
// written.
func (r *run) number(v string) string {
	v = strings.TrimSpace(v)
	if e, ok := source.NormalisePhone(v, r.m.Region()); ok {
		return e
	}
	return v
}

// callRow holds the values of one calls record.
type callRow struct {
	callID, ref        string
	start, end         time.Time
	answered           bool
	answer             time.Time
	talk               int64
	direction          string
	outcome, raw       string
	role               string
	subjectNumber      string
	nameShown          string
	otherNumber        string
	otherName          string
	channel, dst       string
	application, data  string
	uniqueID           string
	accountCode, field string
}

// callsCol maps each calls column name to its position.
var callsCol = func() map[string]int {
	m := map[string]int{}
	for i, c := range model.Calls.Columns {
		m[c.Name] = i
	}
	return m
}()

// record builds the calls record: string columns this connector does not
// fill are empty, nullable ones nil.
func (c *callRow) record(source string) model.Record {
	rec := make(model.Record, len(model.Calls.Columns))
	for i, col := range model.Calls.Columns {
		if col.Type == model.String && !col.Nullable {
			rec[i] = ""
		}
	}
	set := func(name string, v any) {
		if i, ok := callsCol[name]; ok {
			rec[i] = v
		}
	}
	var answer any
	if c.answered {
		answer = c.answer
	}
	set("call_id", c.callID)
	set("leg", int64(0)) // the exporter numbers the legs of a call
	set("source", source)
	set("source_ref", c.ref)
	set("start_utc", c.start)
	set("answer_utc", answer)
	set("end_utc", c.end)
	set("duration_s", int64(c.end.Sub(c.start)/time.Second))
	set("talk_s", c.talk)
	set("direction", c.direction)
	set("outcome", c.outcome)
	set("outcome_raw", c.raw)
	set("subject_role", c.role)
	set("subject_number", c.subjectNumber)
	set("subject_name_shown", c.nameShown)
	set("other_number", c.otherNumber)
	set("other_name", c.otherName)
	set("channel", c.channel)
	set("dst_channel", c.dst)
	set("application", c.application)
	set("application_data", c.data)
	set("account_code", c.accountCode)
	set("user_field", c.field)
	set("unique_id", c.uniqueID)
	return rec
}

// record builds a record of dataset d from column values by name: string
// columns not given are empty, others nil.
func record(d *model.Dataset, vals map[string]any) model.Record {
	rec := make(model.Record, len(d.Columns))
	for i, col := range d.Columns {
		if v, ok := vals[col.Name]; ok {
			rec[i] = v
		} else if col.Type == model.String && !col.Nullable {
			rec[i] = ""
		}
	}
	return rec
}

// join joins the non-empty trimmed parts with sep.
func join(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}
