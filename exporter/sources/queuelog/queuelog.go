// Package queuelog is the asterisk-queuelog connector: it reads
// Asterisk's queue_log file and emits the queue logins, logouts and
// pauses of the wanted subjects into the logins and presence datasets.
//
// # The file
//
// apps/app_queue.c (and app_agent_pool) write one event per line with
// ast_queue_log, as "%ld|%s|%s|%s|%s|%s\n":
//
//	time|callid|queue|agent|event|data1|data2|...
//
// time is Unix seconds (UTC); callid is the caller's channel uniqueid, or
// NONE or REALTIME; queue is the queue's name, or NONE; agent is the
// member's interface (PJSIP/4321), its member name when queues.conf sets
// log_membername_as_agent (or for PAUSE and UNPAUSE, which log the
// member name, itself the interface unless one was given), an agent
// (Agent/1001), or NONE; the data fields depend on the event. Lines are
// not escaped: a pause reason containing '|' runs on to the end of the
// line, and is read so.
//
// # Events
//
//   - ADDMEMBER (data1 PAUSED when added paused), AGENTLOGIN (data1 the
//     agent's channel), AGENTCALLBACKLOGIN (Asterisk 1.4): a login, in
//     logins, with the queue as the application (none for NONE) and an
//     agent's channel as the device. A member added paused also gets a
//     presence record (paused).
//   - REMOVEMEMBER, AGENTLOGOFF (data1 channel, data2 seconds logged
//     in), AGENTCALLBACKLOGOFF: a logout, in logins.
//   - PAUSE and UNPAUSE (data1 the reason, where the version logs one),
//     PAUSEALL and UNPAUSEALL (queue NONE, written before the per-queue
//     events when a member is paused in every queue): a presence record,
//     state paused or available, with the reason and the queue as the
//     context (empty for all queues).
//   - Every other event (ENTERQUEUE, CONNECT, COMPLETECALLER,
//     RINGNOANSWER, QUEUESTART, ...) is read, counted and skipped: call
//     events belong to the calls dataset, from the CDRs.
//
// # Matching
//
// The agent field is matched whole, at the event's time: as an agent
// identifier (kind agent, compared as written: PJSIP/4321, Agent/1001, a
// member name); for PJSIP/<endpoint>, SIP/<endpoint> and IAX2/<endpoint>
// also as a sip identifier (the endpoint); for FreePBX's
// Local/<extension>@<context>/n also as an extension. PJSIP/4321 never
// matches 43210.
//
// A line that cannot be read (too few fields, a time that is not Unix
// seconds, an empty event, invalid UTF-8, over 1 MiB) is reported to the
// sink with its file and line, never its content, and reading goes on.
package queuelog

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/dsar-tool/dsar/exporter/model"
	"github.com/dsar-tool/dsar/exporter/source"
)

// KindName is the connector kind in a configuration's sources list.
const KindName = "asterisk-queuelog"

// Config configures an asterisk-queuelog source.
type Config struct {
	// Paths are file globs (already resolved against the configuration's
	// directory), e.g. /var/log/asterisk/queue_log*. Every glob must
	// match at least one file.
	Paths []string `yaml:"paths"`
	// Strict makes Fetch fail when any line could not be read.
	Strict bool `yaml:"strict"`
}

// Kind declares the asterisk-queuelog connector for the registry.
var Kind = source.Kind{
	Name:    KindName,
	Summary: "Asterisk queue_log files: queue member and agent logins and logouts, pauses with their reasons.",
	Keys: []source.Key{
		{Name: "paths", Required: true, Description: "list of file globs, relative to the config file (e.g. /var/log/asterisk/queue_log*, which takes in rotated files); each must match a file"},
		{Name: "strict", Description: "true to fail the export when any line cannot be read (default false: such lines are listed in the manifest)"},
	},
	New: func(name string, decode func(any) error, resolve func(string) string) (source.Source, error) {
		var c Config
		if err := decode(&c); err != nil {
			return nil, err
		}
		for i, p := range c.Paths {
			c.Paths[i] = resolve(p)
		}
		return New(name, c)
	},
}

// QueueLog is a configured asterisk-queuelog source. It is immutable once
// built and safe for concurrent Fetches.
type QueueLog struct {
	name string
	cfg  Config
}

var _ source.Source = (*QueueLog)(nil)

// New checks cfg and returns the source called name.
func New(name string, cfg Config) (*QueueLog, error) {
	if strings.TrimSpace(name) == "" {
		return nil, errors.New("asterisk-queuelog: source name is required")
	}
	paths, err := source.CheckPaths(name, cfg.Paths, "/var/log/asterisk/queue_log*")
	if err != nil {
		return nil, err
	}
	cfg.Paths = paths
	return &QueueLog{name: name, cfg: cfg}, nil
}

// Name is the configured name of the source.
func (s *QueueLog) Name() string { return s.name }

// Kind is "asterisk-queuelog".
func (s *QueueLog) Kind() string { return KindName }

// Fetch reads every file once and emits the logins and presence changes
// of the wanted subjects. See the package documentation.
func (s *QueueLog) Fetch(ctx context.Context, q source.Query, sink source.Sink) (source.Stats, error) {
	var st source.Stats
	if err := ctx.Err(); err != nil {
		return st, err
	}
	files, err := source.Files(s.name, q, s.cfg.Paths)
	if err != nil {
		return st, err
	}
	sc := newScan(s.name, q, sink, &st)
	read := func(r io.Reader, base string) error { return sc.read(ctx, r, base) }
	if err := source.EachFile(ctx, s.name, files, read); err != nil {
		return st, err
	}
	if s.cfg.Strict && st.Rejected > 0 {
		return st, source.StrictError(s.name, st.Rejected, "line(s)")
	}
	return st, nil
}

// ctxEvery is how many lines are read between checks for cancellation.
const ctxEvery = 4096

// scan is the state of one Fetch.
type scan struct {
	name string
	q    source.Query
	sink source.Sink
	st   *source.Stats
	want map[string]bool
}

func newScan(name string, q source.Query, sink source.Sink, st *source.Stats) *scan {
	sc := &scan{name: name, q: q, sink: sink, st: st, want: map[string]bool{}}
	for _, s := range q.Subjects {
		sc.want[s.ID] = true
	}
	return sc
}

// read reads one file's lines; base names the file in references.
func (sc *scan) read(ctx context.Context, r io.Reader, base string) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var n int64
	var long []byte
	for {
		b, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: gather it, up to maxLine.
			long = append(long[:0], b...)
			for errors.Is(err, bufio.ErrBufferFull) {
				b, err = br.ReadSlice('\n')
				if len(long) <= maxLine {
					long = append(long, b...)
				}
			}
			b = long
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("source %q: reading %s: %w", sc.name, base, err)
		}
		if len(b) == 0 && err == io.EOF {
			return nil
		}
		n++
		if err := sc.line(b, n, base); err != nil {
			return err
		}
		if n%ctxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}

// line handles one physical line (with its '\n', if any).
func (sc *scan) line(b []byte, n int64, base string) error {
	b = trimEOL(b)
	if len(bytes.TrimSpace(b)) == 0 {
		return nil // a blank line holds no event
	}
	sc.st.Read++
	if len(b) > maxLine {
		sc.reject(base, n, reasonTooLong)
		return nil
	}
	e, bad := parseLine(b)
	if bad != "" {
		sc.reject(base, n, bad)
		return nil
	}
	sc.st.Cover(time.Unix(e.time, 0).UTC())
	if len(sc.want) == 0 {
		return nil
	}
	return sc.emit(e, base+":"+strconv.FormatInt(n, 10))
}

func trimEOL(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] == '\n' {
		b = b[:len(b)-1]
	}
	if len(b) > 0 && b[len(b)-1] == '\r' {
		b = b[:len(b)-1]
	}
	return b
}

func (sc *scan) reject(base string, n int64, reason string) {
	sc.st.Rejected++
	sc.sink.Reject(model.Rejection{Source: sc.name, File: base, Line: n, Reason: reason})
}

// subjects returns the wanted subjects the agent field identifies at t.
func (sc *scan) subjects(agent string, t time.Time) []string {
	a := strings.TrimSpace(agent)
	if a == "" || a == "NONE" {
		return nil
	}
	m := sc.q.Matcher
	ms := m.Lookup(model.KindAgent, a, t)
	ep, ext := interfaceIDs(a)
	if ep != "" {
		ms = append(ms, m.Lookup(model.KindSIP, ep, t)...)
	}
	if ext != "" {
		ms = append(ms, m.Lookup(model.KindExtension, ext, t)...)
	}
	var out []string
	for _, mt := range ms {
		if sc.want[mt.Subject] && !contains(out, mt.Subject) {
			out = append(out, mt.Subject)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// emit emits the records one event gives to every wanted subject it
// names.
func (sc *scan) emit(e entry, ref string) error {
	k := classify(e.event)
	if k == other {
		return nil
	}
	at := time.Unix(e.time, 0).UTC()
	subjects := sc.subjects(e.agent, at)
	if len(subjects) == 0 {
		return nil
	}
	queue := e.queue
	if queue == "NONE" {
		queue = ""
	}
	for _, subj := range subjects {
		switch k {
		case login, logout:
			event := "login"
			if k == logout {
				event = "logout"
			}
			device := ""
			if strings.HasPrefix(e.event, "AGENT") {
				device = e.data1() // the agent's channel (or exten@context)
			}
			if err := sc.out(subj, model.Logins, map[string]any{
				"source": sc.name, "source_ref": ref, "at_utc": at, "event": event, "result": "success",
				"subject_identifier": e.agent, "application": queue, "device": device, "event_raw": e.event,
			}); err != nil {
				return err
			}
			if e.event == "ADDMEMBER" && e.data1() == "PAUSED" {
				if err := sc.out(subj, model.Presence, map[string]any{
					"source": sc.name, "source_ref": ref, "at_utc": at, "state": "paused", "context": queue,
					"subject_identifier": e.agent, "state_raw": e.event + "|" + e.data,
				}); err != nil {
					return err
				}
			}
		case paused, unpaused:
			state := "paused"
			if k == unpaused {
				state = "available"
			}
			if err := sc.out(subj, model.Presence, map[string]any{
				"source": sc.name, "source_ref": ref, "at_utc": at, "state": state, "reason": e.data,
				"context": queue, "subject_identifier": e.agent, "state_raw": e.event,
			}); err != nil {
				return err
			}
		}
	}
	return nil
}

// out builds a record of d from the named values (every other text
// column empty) and emits it.
func (sc *scan) out(subject string, d *model.Dataset, vals map[string]any) error {
	rec := make(model.Record, len(d.Columns))
	for i, c := range d.Columns {
		if v, ok := vals[c.Name]; ok {
			rec[i] = v
		} else if c.Type == model.String {
			rec[i] = ""
		}
	}
	sc.st.Selected++
	return sc.sink.Emit(subject, d, rec)
}
