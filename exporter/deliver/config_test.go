package deliver

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// keyFiles writes a client key and a known_hosts for sftp.example.org
// into dir (no server needed) and returns their names.
func keyFiles(t *testing.T, dir string) (key, known string) {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "id_ed25519"), pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	hk, _ := ssh.NewPublicKey(pub)
	line := knownhosts.Line([]string{"sftp.example.org"}, hk) + "\n"
	if err := os.WriteFile(filepath.Join(dir, "known_hosts"), []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	return "id_ed25519", "known_hosts"
}

func TestConfigYAML(t *testing.T) {
	dir := t.TempDir()
	keyFiles(t, dir)
	resolve := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	for _, tc := range []struct {
		yaml, want string
		timeout    time.Duration // sftp only
	}{
		{"kind: outbox\npath: outbox\n", filepath.Join(dir, "outbox"), 0},
		{"path: /srv/dsar/outbox\n", "/srv/dsar/outbox", 0},
		{`kind: sftp
host: sftp.example.org
port: 2222
user: dsar
key_file: id_ed25519
known_hosts: known_hosts
dir: /incoming/dsar
timeout: 45s
`, "sftp://sftp.example.org:2222/incoming/dsar", 45 * time.Second},
		{"kind: sftp\nhost: sftp.example.org\nuser: dsar\nkey_file: id_ed25519\nknown_hosts: known_hosts\n", "sftp://sftp.example.org:22/~", DefaultTimeout},
		{"kind: sftp\nhost: 2001:db8::1\nuser: dsar\nkey_file: id_ed25519\nknown_hosts: known_hosts\ndir: in\n", "sftp://[2001:db8::1]:22/~/in", DefaultTimeout},
	} {
		var c Config
		if err := yaml.Unmarshal([]byte(tc.yaml), &c); err != nil {
			t.Fatal(err)
		}
		d, err := New(c, resolve)
		if err != nil {
			t.Fatalf("%s: %v", tc.yaml, err)
		}
		if d.String() != tc.want {
			t.Errorf("%s: String() = %q, want %q", tc.yaml, d.String(), tc.want)
		}
		if sd, ok := d.(*sftpDest); ok {
			if sd.keyFile != filepath.Join(dir, "id_ed25519") || sd.knownHosts != filepath.Join(dir, "known_hosts") {
				t.Errorf("paths not resolved: %q, %q", sd.keyFile, sd.knownHosts)
			}
			if sd.timeout != tc.timeout {
				t.Errorf("%s: timeout %s, want %s", tc.yaml, sd.timeout, tc.timeout)
			}
		}
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	key, known := keyFiles(t, dir)
	key, known = filepath.Join(dir, key), filepath.Join(dir, known)
	ok := Config{Kind: "sftp", Host: "sftp.example.org", User: "dsar", KeyFile: key, KnownHosts: known}
	with := func(f func(c *Config)) Config { c := ok; f(&c); return c }
	if err := os.WriteFile(filepath.Join(dir, "id.pub"), []byte("ssh-ed25519 AAAA\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    Config
		want string
	}{
		{"unknown kind", Config{Kind: "ftp"}, `unknown kind "ftp"`},
		{"outbox without path", Config{Kind: "outbox"}, `"path" is required`},
		{"outbox with dir", Config{Path: "x", Dir: "y"}, `did you mean "path"`},
		{"outbox with host", Config{Path: "x", Host: "h"}, `"host" is an sftp setting`},
		{"sftp with path", with(func(c *Config) { c.Path = "x" }), `did you mean "dir"`},
		{"no host", with(func(c *Config) { c.Host = "" }), `"host" is required`},
		{"user in host", with(func(c *Config) { c.Host = "dsar@sftp.example.org" }), `put the account name in "user"`},
		{"port in host", with(func(c *Config) { c.Host = "sftp.example.org:2222" }), `put the port in "port"`},
		{"bad port", with(func(c *Config) { c.Port = 70000 }), "port 70000 is out of range"},
		{"no user", with(func(c *Config) { c.User = "" }), `"user" is required`},
		{"no key", with(func(c *Config) { c.KeyFile = "" }), `"key_file" is required`},
		{"missing key", with(func(c *Config) { c.KeyFile = filepath.Join(dir, "nope") }), "cannot read key_file"},
		{"public key", with(func(c *Config) { c.KeyFile = filepath.Join(dir, "id.pub") }), "not the .pub file"},
		{"no known_hosts", with(func(c *Config) { c.KnownHosts = "" }), `"known_hosts" is required`},
		{"missing known_hosts", with(func(c *Config) { c.KnownHosts = filepath.Join(dir, "nope") }), "does not exist"},
		{"negative timeout", with(func(c *Config) { c.Timeout = -time.Second }), "timeout -1s is negative"},
	} {
		_, err := New(tc.c, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := New(ok, nil); err != nil {
		t.Fatalf("valid config: %v", err)
	}
}

// A timeout needs a unit: yaml refuses a bare number for a duration.
func TestConfigTimeoutNeedsUnit(t *testing.T) {
	var c Config
	if err := yaml.Unmarshal([]byte("timeout: 30\n"), &c); err == nil {
		t.Fatalf("timeout: 30 decoded as %s", c.Timeout)
	}
}

func TestParseConfig(t *testing.T) {
	var doc yaml.Node
	src := `destinations:
  - name: partner
    kind: sftp
    host: sftp.example.org
    keyfile: id_ed25519
  - name: drop
    path: /srv/drop
  - name: odd
    kind: sftp
    frobnicate: yes
`
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	items := doc.Content[0].Content[1].Content
	_, err := ParseConfig(items[0])
	if err == nil || err.Error() != `line 5: unknown destination setting "keyfile"; did you mean "key_file"?` {
		t.Errorf("misspelt key: got %v", err)
	}
	c, err := ParseConfig(items[1])
	if err != nil || c.Name != "drop" || c.Path != "/srv/drop" || c.Kind != "" {
		t.Errorf("outbox entry: got %+v, %v", c, err)
	}
	_, err = ParseConfig(items[2])
	if err == nil || !strings.Contains(err.Error(), `line 10: unknown destination setting "frobnicate" (known: name, kind, path, host`) {
		t.Errorf("unknown key: got %v", err)
	}
	if _, err := ParseConfig(doc.Content[0].Content[0]); err == nil {
		t.Error("a scalar parsed as a destination")
	}
}
