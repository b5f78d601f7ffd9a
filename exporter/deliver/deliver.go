// Package deliver hands a finished bundle (<request-id>.zip.pgp) to where
// its recipient collects it: an outbox folder (the default; a local folder
// or a mounted drop share) or a folder on an SFTP server.
//
// Both kinds deliver atomically: the bundle is written under a temporary
// name (.<name>.part-<random>) in the target folder, checked, and only then
// renamed to its final name. A failed or cancelled delivery leaves nothing
// under the final name and removes its temporary file. A delivery replaces
// a file of the same name, so retrying a delivery is safe.
//
// The SHA-256 in a Receipt is computed over the bytes as they are sent, so
// it can be compared with the bundle's recorded hash.
//
// # Secrets
//
// Neither errors nor String nor a Receipt contain secrets (key material,
// passphrases) or subject data; they name the destination (host, port,
// folder) and the request's bundle file name only.
package deliver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dsar-tool/dsar/exporter/internal/suggest"
)

// Destination delivers bundles to one place.
type Destination interface {
	// Deliver copies the file at bundlePath to the destination under its
	// base name, replacing a file of that name. It returns only once the
	// file is complete under its final name; on error nothing is left
	// under the final name (an earlier delivery of the same name may
	// remain) and the temporary file has been removed. Cancelling ctx
	// aborts the transfer. Deliver may be called concurrently.
	Deliver(ctx context.Context, bundlePath string) (Receipt, error)
	// String names the destination for logs and messages, e.g.
	// "sftp://host:22/incoming" or "/srv/dsar/outbox". It never holds
	// secrets.
	String() string
}

// Receipt records one delivery.
type Receipt struct {
	// Destination is where the bundle now is: a local path for an outbox,
	// "sftp://host:port/dir/<name>" for SFTP (no user name or key).
	Destination string
	Bytes       int64     // bytes delivered
	SHA256      string    // lower-case hex SHA-256 of the delivered bytes
	At          time.Time // when the delivery completed (UTC)
}

// Config selects and configures a destination. It is decoded from YAML:
//
//	# a folder (the default kind)
//	kind: outbox
//	path: /srv/dsar/outbox
//
//	# a folder on an SFTP server
//	kind: sftp
//	host: sftp.example.ac.uk
//	port: 22
//	user: dsar
//	key_file: keys/sftp_ed25519     # passphrase, if any, in DSAR_SFTP_KEY_PASSPHRASE
//	known_hosts: keys/known_hosts   # must list the server's host key
//	dir: incoming
//	timeout: 30s
type Config struct {
	Name string `yaml:"name"` // the caller's name for the destination; New ignores it
	Kind string `yaml:"kind"` // outbox (default) or sftp

	// outbox
	Path string `yaml:"path"` // the folder; must exist

	// sftp
	Host       string        `yaml:"host"`
	Port       int           `yaml:"port"`        // default 22
	User       string        `yaml:"user"`        // the account on the server
	KeyFile    string        `yaml:"key_file"`    // private key, OpenSSH or PEM format
	KnownHosts string        `yaml:"known_hosts"` // OpenSSH known_hosts listing the server's host key
	Dir        string        `yaml:"dir"`         // remote folder; relative to the login folder; default "."
	Timeout    time.Duration `yaml:"timeout"`     // connect timeout, and the longest an upload may stall; default 30s
}

// ParseConfig decodes one destination entry, refusing keys that no kind
// knows (a misspelt "key_file" must not silently drop a setting) with the
// entry's line number and a suggestion.
func ParseConfig(n *yaml.Node) (Config, error) {
	var c Config
	if n.Kind != yaml.MappingNode {
		return c, fmt.Errorf("line %d: a destination is a mapping of settings (kind, path, host ...)", n.Line)
	}
	known := configKeys()
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if slices.Contains(known, k.Value) {
			continue
		}
		if best := suggest.Closest(k.Value, known); best != "" {
			return c, fmt.Errorf("line %d: unknown destination setting %q; did you mean %q?", k.Line, k.Value, best)
		}
		return c, fmt.Errorf("line %d: unknown destination setting %q (known: %s)", k.Line, k.Value, strings.Join(known, ", "))
	}
	if err := n.Decode(&c); err != nil {
		return c, fmt.Errorf("line %d: %w", n.Line, err)
	}
	return c, nil
}

// configKeys lists Config's YAML keys.
func configKeys() []string {
	t := reflect.TypeFor[Config]()
	keys := make([]string, 0, t.NumField())
	for f := range t.Fields() {
		keys = append(keys, strings.Split(f.Tag.Get("yaml"), ",")[0])
	}
	return keys
}

// PassphraseEnv names the environment variable that holds the passphrase
// of a passphrase-protected SFTP key file.
const PassphraseEnv = "DSAR_SFTP_KEY_PASSPHRASE"

// DefaultTimeout is the SFTP connect timeout when the config sets none.
const DefaultTimeout = 30 * time.Second

// New checks c and returns its destination. resolve turns a path from the
// configuration (path, key_file, known_hosts) into an absolute one, usually
// against the folder of the configuration file; nil leaves paths as they
// are. For SFTP, New reads the key file and known_hosts, so a missing file
// or passphrase is reported now rather than at the first delivery; it does
// not connect.
func New(c Config, resolve func(string) string) (Destination, error) {
	if resolve == nil {
		resolve = func(p string) string { return p }
	}
	switch c.Kind {
	case "", "outbox":
		return newOutbox(c, resolve)
	case "sftp":
		return newSFTP(c, resolve)
	default:
		return nil, fmt.Errorf("delivery: unknown kind %q: use outbox or sftp", c.Kind)
	}
}

// bundleName checks bundlePath and returns the name it is delivered under.
func bundleName(bundlePath string) (string, error) {
	name := filepath.Base(bundlePath)
	if bundlePath == "" || name == "." || name == ".." || name == string(filepath.Separator) {
		return "", fmt.Errorf("no bundle file given (got %q)", bundlePath)
	}
	return name, nil
}

// tempName is the name a bundle is written under before it is renamed.
// The leading dot hides it from recipients' tools that skip dot files.
func tempName(name string) string { return "." + name + ".part-" }

// sendReader reads the bundle for sending: it hashes and counts what it
// reads, stops when ctx is cancelled, and reports progress.
type sendReader struct {
	ctx      context.Context
	r        io.Reader
	h        hash.Hash
	n        int64
	progress func(n int64) // called after each read with the total; may be nil
}

func newSendReader(ctx context.Context, r io.Reader, progress func(int64)) *sendReader {
	return &sendReader{ctx: ctx, r: r, h: sha256.New(), progress: progress}
}

func (s *sendReader) Read(p []byte) (int, error) {
	if err := s.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := s.r.Read(p)
	if n > 0 {
		s.h.Write(p[:n])
		s.n += int64(n)
		if s.progress != nil {
			s.progress(s.n)
		}
	}
	return n, err
}

func (s *sendReader) sum() string { return hex.EncodeToString(s.h.Sum(nil)) }

// now is the clock for receipts.
var now = func() time.Time { return time.Now().UTC() }

// cancelled reports whether err comes from a cancelled or expired context.
func cancelled(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// hostPort joins host and port, bracketing IPv6 literals.
func hostPort(host string, port int) string { return net.JoinHostPort(host, fmt.Sprint(port)) }
