package asterisk

// The asterisk-sql connector reads the same CDR fields from a database;
// these are the rules both connectors apply to them.

// Endpoint returns the endpoint a channel such as PJSIP/4321-0000001b
// names ("4321"), or "" for channels that name none (see endpoint).
func Endpoint(channel string) string { return endpoint(channel) }

// CallerIDName returns the caller-ID name in a CDR clid (see clidName).
func CallerIDName(clid string) (string, bool) { return clidName(clid) }

// Outcome maps a CDR disposition to the calls dataset's outcome.
func Outcome(disposition string) string { return outcome(disposition) }
