package generic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/dsar-tool/dsar/exporter/sources/internal/textrec"
)

// readJSONL reads one JSON Lines file: one JSON object per line, blank
// lines skipped.
func (sc *scan) readJSONL() error {
	for {
		l, err := sc.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if !l.Long && len(bytes.TrimSpace(l.B)) == 0 {
			continue
		}
		if err := sc.counted(); err != nil {
			return err
		}
		if reason := sc.jsonValues(l); reason != "" {
			sc.reject(l.N, reason)
			continue
		}
		if err := sc.row(l.N); err != nil {
			return err
		}
	}
}

// jsonValues decodes one line and puts the mapped fields' values in
// sc.vals, or says why it cannot. A field that holds an object or array is
// noted in sc.bad, so that the row is rejected only if where keeps it.
func (sc *scan) jsonValues(l textrec.Line) string {
	if l.Long {
		return fmt.Sprintf("line longer than %d bytes", maxLine)
	}
	if !utf8.Valid(l.B) {
		return "invalid UTF-8"
	}
	dec := json.NewDecoder(bytes.NewReader(l.B))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return fmt.Sprintf("invalid JSON at byte %d", syn.Offset)
		case errors.As(err, &typ):
			return "not a JSON object"
		case errors.Is(err, io.ErrUnexpectedEOF):
			return "invalid JSON: the line ends inside a value"
		}
		return "invalid JSON"
	}
	if obj == nil {
		return "not a JSON object"
	}
	if _, err := dec.Token(); err != io.EOF {
		return "more than one JSON value on the line"
	}
	m := sc.src.m
	for i, path := range m.fields {
		v, _ := lookup(obj, path)
		s, ok := scalar(v)
		if !ok && sc.bad == "" {
			sc.bad = fmt.Sprintf("field %q (%s) is an object or array, not a value", path, m.fieldKeys[i])
		}
		sc.vals[i] = s
	}
	return ""
}

// lookup finds a field by name, or by a dotted path into nested objects
// (caller.number); a name that itself holds dots is tried whole first.
func lookup(obj map[string]any, path string) (any, bool) {
	if v, ok := obj[path]; ok {
		return v, true
	}
	head, rest, ok := strings.Cut(path, ".")
	if !ok {
		return nil, false
	}
	inner, ok := obj[head].(map[string]any)
	if !ok {
		return nil, false
	}
	return lookup(inner, rest)
}

// scalar returns a JSON value as text: strings as they are, numbers as
// written, true/false, and null as empty.
func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", true
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		if x {
			return "true", true
		}
		return "false", true
	}
	return "", false
}
