// Package cucm is the cucm-cdr connector: it reads the call detail record
// (CDR) flat files Cisco Unified Communications Manager writes, and emits
// the calls of the wanted subjects.
//
// # The files
//
// CUCM writes CDRs to files named cdr_<ClusterID>_<NodeID>_<YYYYMMDDHHMM>_<seq>
// and call management records (CMRs: voice quality) to cmr_... files of
// the same shape. Line 1 holds the field names, each in double quotes;
// line 2 the data types, bare (INTEGER, VARCHAR(n), UNIQUEIDENTIFIER);
// then one record per line. INTEGER values are bare signed decimals and may
// be empty (read as 0); strings are in double quotes ("" when empty, an
// embedded quote doubled). Lines end in LF or CRLF. A record is one line.
//
// Later CUCM releases append fields, so fields are found by the names in
// each file's own header (compared without regard to case), never by
// position, and files with different headers may be read in one run.
//
// # What is read
//
// Only end-of-call records (cdrRecordType 1) are calls. CMR files (a
// cmr_ name with an unusable header, or a header with directoryNum and no
// callingPartyNumber) and rows of any other cdrRecordType are counted as
// read and never selected: they are neither calls nor rejected.
//
// Times (dateTimeOrigination, dateTimeConnect, dateTimeDisconnect) are UTC
// seconds since 1970; dateTimeConnect 0 means the call never connected
// (answer_utc empty, talk_s 0). talk_s is the duration field (seconds
// connected) and duration_s runs from origination to disconnect. The
// outcome comes from the Q.850 cause values (see outcome); outcome_raw
// keeps both as "orig=16 dest=0".
//
// # Whose records
//
// A record belongs to a subject whose identifier, valid at
// dateTimeOrigination, equals (whole, after normalisation):
//
//	caller: callingPartyNumber (extension or phone), callingPartyUnicodeLoginUserID
//	        (cucm_user), origDeviceName (device)
//	callee: originalCalledPartyNumber, finalCalledPartyNumber, lastRedirectDn
//	        (extension or phone), finalCalledPartyUnicodeLoginUserID (cucm_user),
//	        destDeviceName (device)
//
// A subject found on both sides is the caller. Numbers inside comment,
// clientMatterCode or any other field never match.
//
// # Columns
//
// call_id is globalCallID_callManagerId-globalCallID_callId, shared by
// the records of one call (the legs of a transfer); source_ref is the file
// name and line. channel and dst_channel are the calling and called device
// names (SEP<MAC> phones, trunks, gateways); where a device name is empty
// they hold the device's IPv4 address instead (origIpv4v6Addr, or
// origIpAddr decoded: CUCM stores the four bytes as a little-endian signed
// 32-bit integer). Addresses are not exported otherwise: the calls
// dataset has no address column. account_code is clientMatterCode,
// user_field the comment field, unique_id the record's pkid. CDRs hold no
// caller names, so the name columns are empty.
//
// direction: a party is outside when its number is a phone number
// (E.164) and its device is not a phone (SEP, CSF, BOT, TCT, TAB or ATA
// device names): a subject who called an outside party made an outbound
// call, a subject called by one an inbound call; everything else is
// internal.
//
// Bad rows (a field count that differs from the header's, bad quoting, a
// non-integer in an INTEGER field, invalid UTF-8, a missing origination or
// disconnect time) are rejected with file, line and reason, and reading
// goes on. A file whose header cannot be used has its header and every
// record rejected.
package cucm

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dsar-tool/dsar/exporter/source"
)

// KindName is the connector kind in a configuration's sources list.
const KindName = "cucm-cdr"

// Config configures a cucm-cdr source.
type Config struct {
	// Paths are file globs (resolved against the configuration's folder),
	// e.g. /var/cdr/cdr_StandAloneCluster_*. Each must match a file.
	Paths []string `yaml:"paths"`
	// Strict makes Fetch fail when any row could not be read. By default
	// such rows are reported to the sink and reading goes on.
	Strict bool `yaml:"strict"`
}

// Kind declares the cucm-cdr connector for the registry.
var Kind = source.Kind{
	Name:    KindName,
	Summary: "Cisco Unified CM call detail record flat files (cdr_<cluster>_<node>_<time>_<seq>: a quoted header line, a type line, one record per line); CMR files are counted, not read as calls.",
	Keys: []source.Key{
		{Name: "paths", Required: true, Description: "list of file globs, relative to the config file (e.g. cucm/cdr_*); each must match a file. CMR files (cmr_*) may be matched too: they are counted and skipped"},
		{Name: "strict", Description: "true to fail the export when any row cannot be read (default false: such rows are listed in the manifest)"},
	},
	New: func(name string, decode func(any) error, resolve func(string) string) (source.Source, error) {
		var c Config
		if err := decode(&c); err != nil {
			return nil, fmt.Errorf("source %q: %w", name, err)
		}
		for i, p := range c.Paths {
			c.Paths[i] = resolve(p)
		}
		return New(name, c)
	},
}

// Source is a configured cucm-cdr source. It is immutable once built and
// safe for concurrent Fetches.
type Source struct {
	name string
	cfg  Config
}

var _ source.Source = (*Source)(nil)

// New checks cfg and returns the source called name.
func New(name string, cfg Config) (*Source, error) {
	if strings.TrimSpace(name) == "" {
		return nil, errors.New("cucm-cdr: source name is required")
	}
	paths, err := source.CheckPaths(name, cfg.Paths, "/var/cdr/cdr_*")
	if err != nil {
		return nil, err
	}
	cfg.Paths = paths
	return &Source{name: name, cfg: cfg}, nil
}

// Name is the configured name of the source.
func (s *Source) Name() string { return s.name }

// Kind is "cucm-cdr".
func (s *Source) Kind() string { return KindName }

// Fetch reads every file once and emits a calls record per wanted subject
// a CDR matches. See the package documentation for the rules.
func (s *Source) Fetch(ctx context.Context, q source.Query, sink source.Sink) (source.Stats, error) {
	var st source.Stats
	if err := ctx.Err(); err != nil {
		return st, err
	}
	files, err := source.Files(s.name, q, s.cfg.Paths)
	if err != nil {
		return st, err
	}
	sc := newScan(ctx, s.name, q, sink, &st)
	if err := source.EachFile(ctx, s.name, files, sc.read); err != nil {
		return st, err
	}
	if s.cfg.Strict && st.Rejected > 0 {
		return st, source.StrictError(s.name, st.Rejected, "row(s)")
	}
	return st, nil
}
