package source

// Key documents one configuration key of a connector kind.
type Key struct {
	Name        string
	Description string
	Required    bool
}

// Kind declares a connector kind: its documentation and its constructor.
// Each connector package declares its kinds next to its Config; the one
// list of kinds is exporter/sources/all.
type Kind struct {
	Name    string // the config's kind: value, e.g. "asterisk-csv"
	Summary string // one line for `dsar sources list`
	Keys    []Key  // every key besides name and kind
	// New builds the source called name. decode decodes the source's
	// configuration entry into a struct with yaml tags (keys not listed in
	// Keys have already been rejected); resolve makes a path or glob from
	// the configuration absolute against the configuration's folder.
	New func(name string, decode func(v any) error, resolve func(path string) string) (Source, error)
}
