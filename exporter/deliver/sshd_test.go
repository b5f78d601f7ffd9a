package deliver

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/dsar-tool/dsar/exporter/itest"
)

// The SFTP tests run against a real OpenSSH server (Debian's
// openssh-server), started once per test binary on loopback ports, with its
// own host key and authorized_keys in a temporary folder. It listens on
// three ports, each with its own SFTP behaviour:
//
//	port        a normal internal-sftp
//	writeDenied internal-sftp -P write (files can be created, not written)
//	noPosix     internal-sftp -P posix-rename (not offered: plain rename)
type sshServer struct {
	dir                        string
	port, writeDenied, noPosix int
	user                       string
	hostKey                    ssh.PublicKey
	clientKey                  string // OpenSSH ed25519, no passphrase
	rsaPEMKey                  string // PEM (PKCS#1) RSA, no passphrase
	lockedKey                  string // OpenSSH ed25519 with passphrase testPassphrase
	strangerKey                string // not in authorized_keys

	cmd  *exec.Cmd
	log  *lockedBuffer
	done chan struct{}
}

const testPassphrase = "correct horse battery staple"

var (
	serverOnce sync.Once
	server     *sshServer
	serverErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if server != nil {
		server.stop()
	}
	os.Exit(code)
}

// testServer returns the shared sshd, starting it on first use, or skips
// (fails, when integration is required) if it cannot run here.
func testServer(t *testing.T) *sshServer {
	t.Helper()
	sshd := "/usr/sbin/sshd"
	if _, err := os.Stat(sshd); err != nil {
		itest.Need(t, "sshd (Debian package openssh-server)", err)
	}
	serverOnce.Do(func() { server, serverErr = startServer(sshd) })
	itest.Need(t, "a running sshd (Debian package openssh-server)", serverErr)
	return server
}

func startServer(sshd string) (_ *sshServer, err error) {
	dir, err := os.MkdirTemp("", "dsar-sshd-")
	if err != nil {
		return nil, err
	}
	s := &sshServer{dir: dir, log: &lockedBuffer{}, done: make(chan struct{})}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	u, err := user.Current()
	if err != nil {
		return nil, err
	}
	s.user = u.Username
	if os.Geteuid() == 0 {
		// sshd's privilege separation folder; Debian's service unit
		// creates it at boot, which a container may never do.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			return nil, err
		}
	}

	hostSigner, hostFile, err := writeEd25519(filepath.Join(dir, "host_ed25519"), "")
	if err != nil {
		return nil, err
	}
	s.hostKey = hostSigner.PublicKey()
	var authorized bytes.Buffer
	var sg ssh.Signer
	if sg, s.clientKey, err = writeEd25519(filepath.Join(dir, "client_ed25519"), ""); err != nil {
		return nil, err
	}
	authorized.Write(ssh.MarshalAuthorizedKey(sg.PublicKey()))
	if sg, s.lockedKey, err = writeEd25519(filepath.Join(dir, "client_locked"), testPassphrase); err != nil {
		return nil, err
	}
	authorized.Write(ssh.MarshalAuthorizedKey(sg.PublicKey()))
	if sg, s.rsaPEMKey, err = writeRSAPEM(filepath.Join(dir, "client_rsa.pem")); err != nil {
		return nil, err
	}
	authorized.Write(ssh.MarshalAuthorizedKey(sg.PublicKey()))
	if _, s.strangerKey, err = writeEd25519(filepath.Join(dir, "stranger"), ""); err != nil {
		return nil, err
	}
	authKeys := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(authKeys, authorized.Bytes(), 0o600); err != nil {
		return nil, err
	}

	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	s.port, s.writeDenied, s.noPosix = ports[0], ports[1], ports[2]
	cfg := fmt.Sprintf(`Port %d
Port %d
Port %d
ListenAddress 127.0.0.1
HostKey %s
AuthorizedKeysFile %s
PidFile %s
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
AllowUsers %s
LogLevel VERBOSE
Subsystem sftp internal-sftp
`, s.port, s.writeDenied, s.noPosix, hostFile, authKeys, filepath.Join(dir, "sshd.pid"), s.user)
	if newerThan(sshd, 9, 8) {
		// OpenSSH 9.8 penalises sources whose connections fail
		// authentication; the refused-host-key tests would trip it.
		cfg += "PerSourcePenalties no\n"
	}
	cfg += fmt.Sprintf(`Match LocalPort %d
	ForceCommand internal-sftp -P write
Match LocalPort %d
	ForceCommand internal-sftp -P posix-rename
`, s.writeDenied, s.noPosix)
	cfgFile := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		return nil, err
	}

	s.cmd = exec.Command(sshd, "-D", "-e", "-f", cfgFile)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for _, p := range ports {
		for {
			c, err := net.DialTimeout("tcp", hostPort("127.0.0.1", p), time.Second)
			if err == nil {
				c.Close()
				break
			}
			select {
			case <-s.done:
				return nil, fmt.Errorf("sshd exited: %s", s.log.String())
			default:
			}
			if time.Now().After(deadline) {
				s.stop()
				return nil, fmt.Errorf("sshd did not listen on port %d within 10s: %s", p, s.log.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return s, nil
}

func (s *sshServer) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	os.RemoveAll(s.dir)
}

// knownHosts writes a known_hosts file with one line per key for
// 127.0.0.1:port and returns its path.
func (s *sshServer) knownHosts(t *testing.T, port int, keys ...ssh.PublicKey) string {
	t.Helper()
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(knownhosts.Line([]string{hostPort("127.0.0.1", port)}, k) + "\n")
	}
	p := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// config is a working sftp Config for port, delivering into remote.
func (s *sshServer) config(t *testing.T, port int, remote string) Config {
	return Config{
		Kind:       "sftp",
		Host:       "127.0.0.1",
		Port:       port,
		User:       s.user,
		KeyFile:    s.clientKey,
		KnownHosts: s.knownHosts(t, port, s.hostKey),
		Dir:        remote,
		Timeout:    10 * time.Second,
	}
}

// tail is the end of sshd's log, for failure messages.
func (s *sshServer) tail() string {
	l := s.log.String()
	if len(l) > 2000 {
		l = l[len(l)-2000:]
	}
	return l
}

func writeEd25519(file, passphrase string) (ssh.Signer, string, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, "", err
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "dsar test")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "dsar test", []byte(passphrase))
	}
	if err != nil {
		return nil, "", err
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, "", err
	}
	return signer, file, os.WriteFile(file, pem.EncodeToMemory(block), 0o600)
}

func writeRSAPEM(file string) (ssh.Signer, string, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, "", err
	}
	block := &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(priv)}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, "", err
	}
	return signer, file, os.WriteFile(file, pem.EncodeToMemory(block), 0o600)
}

func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// newerThan reports whether sshd -V says OpenSSH major.minor or later.
func newerThan(sshd string, major, minor int) bool {
	out, _ := exec.Command(sshd, "-V").CombinedOutput()
	m := regexp.MustCompile(`OpenSSH_(\d+)\.(\d+)`).FindSubmatch(out)
	if m == nil {
		return false
	}
	ma, _ := strconv.Atoi(string(m[1]))
	mi, _ := strconv.Atoi(string(m[2]))
	return ma > major || ma == major && mi >= minor
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// cutProxy forwards loopback connections to 127.0.0.1:target. The first
// connection is cut (or, with stall, stops passing anything while staying
// open) after limit bytes from client to server; later ones pass
// untouched.
type cutProxy struct {
	l      net.Listener
	port   int
	cut    chan struct{} // closed when the first connection has been cut
	closed chan struct{} // closed when the test ends
	conns  sync.WaitGroup
}

func newCutProxy(t *testing.T, target int, limit int64, stall bool) *cutProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{l: l, port: l.Addr().(*net.TCPAddr).Port, cut: make(chan struct{}), closed: make(chan struct{})}
	t.Cleanup(func() { l.Close(); close(p.closed); p.conns.Wait() })
	go func() {
		first := true
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", hostPort("127.0.0.1", target))
			if err != nil {
				c.Close()
				continue
			}
			p.conns.Add(1)
			go p.pipe(c, up, first, limit, stall)
			first = false
		}
	}()
	return p
}

func (p *cutProxy) pipe(c, up net.Conn, first bool, limit int64, stall bool) {
	defer p.conns.Done()
	defer c.Close()
	defer up.Close()
	go func() {
		io.Copy(c, up)
		if !(first && stall) {
			c.Close()
		}
	}()
	if !first {
		io.Copy(up, c)
		return
	}
	io.CopyN(up, c, limit)
	close(p.cut)
	if stall {
		<-p.closed
	}
}
