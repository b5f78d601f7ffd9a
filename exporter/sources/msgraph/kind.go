package msgraph

import "github.com/dsar-tool/dsar/exporter/source"

// The keys every kind of this package takes.
var (
	keyPaths = func(example string) source.Key {
		return source.Key{Name: "paths", Required: true, Description: "list of file globs, relative to the config file (e.g. " + example + "); each must match a file. A file may hold a Graph response ({\"value\": [...], \"@odata.nextLink\": ...}; save each page as its own file), a JSON array of records, a single record, or JSON Lines"}
	}
	keyStrict = source.Key{Name: "strict", Description: "true to fail the export when any record cannot be read (default false: such records are listed in the manifest)"}
)

// CallRecordsKind declares the msgraph-callrecords connector.
var CallRecordsKind = source.Kind{
	Name:    KindCallRecords,
	Summary: "Microsoft Teams call records from Microsoft Graph (/communications/callRecords, with sessions and segments expanded), matched by Entra ID object id, UPN or phone number.",
	Keys:    []source.Key{keyPaths("graph/callrecords/*.json"), keyStrict},
	New: func(name string, decode func(any) error, resolve func(string) string) (source.Source, error) {
		var c Config
		if err := decode(&c); err != nil {
			return nil, err
		}
		resolvePaths(c.Paths, resolve)
		return NewCallRecords(name, c)
	},
}

// PSTNKind declares the msgraph-pstn connector.
var PSTNKind = source.Kind{
	Name:    KindPSTN,
	Summary: "Microsoft Teams PSTN call log from Microsoft Graph (callRecords/getPstnCalls rows), matched by Entra ID object id, UPN or phone number.",
	Keys:    []source.Key{keyPaths("graph/pstn/*.json"), keyStrict},
	New: func(name string, decode func(any) error, resolve func(string) string) (source.Source, error) {
		var c Config
		if err := decode(&c); err != nil {
			return nil, err
		}
		resolvePaths(c.Paths, resolve)
		return NewPSTN(name, c)
	},
}

// PresenceKind declares the msgraph-presence connector.
var PresenceKind = source.Kind{
	Name:    KindPresence,
	Summary: "Microsoft Teams presence changes as a capture saved them (Graph keeps no presence history): change notifications with their receipt time, or polled snapshots; matched by Entra ID object id.",
	Keys:    []source.Key{keyPaths("graph/presence/*.jsonl"), keyStrict},
	New: func(name string, decode func(any) error, resolve func(string) string) (source.Source, error) {
		var c Config
		if err := decode(&c); err != nil {
			return nil, err
		}
		resolvePaths(c.Paths, resolve)
		return NewPresence(name, c)
	},
}

// SignInsKind declares the entra-signins connector.
var SignInsKind = source.Kind{
	Name:    KindSignIns,
	Summary: "Microsoft Entra ID sign-in logs from Microsoft Graph (/auditLogs/signIns): success or failure with the error code, app, client, IP address, device and location; matched by Entra ID object id or UPN.",
	Keys: []source.Key{
		keyPaths("graph/signins/*.json"),
		{Name: "apps", Description: "list of applications to keep, each an appDisplayName (any case) or appId, e.g. [\"Microsoft Teams\", \"Microsoft Teams Web Client\"]; default: every application, because Teams signs in under several app names and the subject is entitled to all their sign-ins"},
		keyStrict,
	},
	New: func(name string, decode func(any) error, resolve func(string) string) (source.Source, error) {
		var c SignInsConfig
		if err := decode(&c); err != nil {
			return nil, err
		}
		resolvePaths(c.Paths, resolve)
		return NewSignIns(name, c)
	},
}

func resolvePaths(paths []string, resolve func(string) string) {
	for i, p := range paths {
		paths[i] = resolve(p)
	}
}
