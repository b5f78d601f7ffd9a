package deliver

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// cancelGrace is how long a cancelled upload may take to stop and remove
// its temporary file over the same connection before the connection is
// cut (the temporary file is then removed over a new one).
const cancelGrace = 5 * time.Second

// sftpDest delivers into a folder on an SFTP server. Each Deliver opens
// its own SSH connection, authenticated with a key only, and checks the
// server's host key against known_hosts.
type sftpDest struct {
	addr       string // host:port
	user       string
	dir        string // remote folder as configured (slash-separated)
	timeout    time.Duration
	keyFile    string // for messages
	signer     ssh.Signer
	knownHosts string // the known_hosts file, for messages
	hostKeys   ssh.HostKeyCallback
	hostAlgos  []string // host key algorithms known_hosts lists for addr

	progress func(n int64) // test hook: called as bytes are read for sending
}

var _ Destination = (*sftpDest)(nil)

func newSFTP(c Config, resolve func(string) string) (*sftpDest, error) {
	if c.Path != "" {
		return nil, errors.New(`sftp destination: "path" is an outbox setting; did you mean "dir"?`)
	}
	host := strings.TrimSuffix(strings.TrimPrefix(c.Host, "["), "]")
	switch {
	case host == "":
		return nil, errors.New(`sftp destination: "host" is required`)
	case strings.Contains(host, "@"):
		return nil, fmt.Errorf(`sftp destination: host %q contains "@": put the account name in "user"`, c.Host)
	case strings.ContainsAny(host, "/ "):
		return nil, fmt.Errorf(`sftp destination: host %q is not a host name or address (give the folder in "dir")`, c.Host)
	case strings.Contains(host, ":") && net.ParseIP(host) == nil:
		return nil, fmt.Errorf(`sftp destination: host %q contains ":": put the port in "port"`, c.Host)
	}
	port := c.Port
	if port == 0 {
		port = 22
	}
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("sftp destination: port %d is out of range (1-65535)", c.Port)
	}
	if c.User == "" {
		return nil, errors.New(`sftp destination: "user" is required: the account on the server`)
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	if timeout < 0 {
		return nil, fmt.Errorf("sftp destination: timeout %s is negative", c.Timeout)
	}
	dir := c.Dir
	if dir == "" {
		dir = "."
	}
	if strings.ContainsRune(dir, 0) {
		return nil, fmt.Errorf("sftp destination: dir %q is not a valid path", c.Dir)
	}
	dir = path.Clean(dir)
	d := &sftpDest{addr: hostPort(host, port), user: c.User, dir: dir, timeout: timeout}

	if c.KeyFile == "" {
		return nil, fmt.Errorf(`sftp destination %s: "key_file" is required: the private key for user %q`, d, c.User)
	}
	d.keyFile = resolve(c.KeyFile)
	signer, err := loadKey(d.keyFile)
	if err != nil {
		return nil, fmt.Errorf("sftp destination %s: %w", d, err)
	}
	d.signer = signer

	if c.KnownHosts == "" {
		return nil, fmt.Errorf(`sftp destination %s: "known_hosts" is required: a known_hosts file that lists the server's host key (after checking its fingerprint with the server's administrator)`, d)
	}
	d.knownHosts = resolve(c.KnownHosts)
	cb, err := knownhosts.New(d.knownHosts)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("sftp destination %s: known_hosts %q does not exist: create it with the server's host key line, checked with the server's administrator", d, d.knownHosts)
		}
		return nil, fmt.Errorf("sftp destination %s: known_hosts %q: %w", d, d.knownHosts, err)
	}
	d.hostKeys = cb
	d.hostAlgos = hostKeyAlgorithms(cb, d.addr)
	return d, nil
}

// loadKey reads a private key in OpenSSH or PEM format, decrypting it
// with the passphrase in PassphraseEnv where it has one.
func loadKey(file string) (ssh.Signer, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("cannot read key_file: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(data)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		pass := os.Getenv(PassphraseEnv)
		if pass == "" {
			return nil, fmt.Errorf("key_file %q is protected by a passphrase: set %s", file, PassphraseEnv)
		}
		signer, err = ssh.ParsePrivateKeyWithPassphrase(data, []byte(pass))
		if errors.Is(err, x509.IncorrectPasswordError) {
			return nil, fmt.Errorf("the passphrase in %s does not open key_file %q", PassphraseEnv, file)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("key_file %q is not a private key in OpenSSH or PEM format (%v): give the private key, not the .pub file", file, err)
	}
	return signer, nil
}

// hostKeyAlgorithms returns the host key algorithms that known_hosts lists
// for addr, so that the server is asked for a key known_hosts can check
// (else a server with several host keys may offer one known_hosts does not
// list, which would look like a changed key). nil means any.
func hostKeyAlgorithms(cb ssh.HostKeyCallback, addr string) []string {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil
	}
	probe, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil
	}
	var ke *knownhosts.KeyError
	if !errors.As(cb(addr, fakeAddr(addr), probe), &ke) {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	for _, k := range ke.Want {
		t := k.Key.Type()
		if seen[t] {
			continue
		}
		seen[t] = true
		if t == ssh.KeyAlgoRSA {
			algos = append(algos, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA)
		} else {
			algos = append(algos, t)
		}
	}
	return algos
}

type fakeAddr string

func (a fakeAddr) Network() string { return "tcp" }
func (a fakeAddr) String() string  { return string(a) }

// HostKeyError is returned when the server's host key is not the one
// known_hosts lists for it. Delivery is refused: the connection may be
// intercepted.
type HostKeyError struct {
	Host        string // host:port as dialled
	KnownHosts  string // the known_hosts file checked
	Fingerprint string // SHA256 fingerprint of the key the server presented
	Line        string // the known_hosts line that would accept that key
	Changed     bool   // known_hosts lists other keys for this host
	Revoked     bool   // known_hosts marks the presented key @revoked
}

func (e *HostKeyError) Error() string {
	switch {
	case e.Revoked:
		return fmt.Sprintf("the host key of %s (%s) is marked @revoked in known_hosts %q: ask the server's administrator for its current key",
			e.Host, e.Fingerprint, e.KnownHosts)
	case e.Changed:
		return fmt.Sprintf("the host key of %s does not match known_hosts %q (the server presented %s): the server's key has changed or someone is intercepting the connection; deliver nothing until the server's administrator confirms this fingerprint, then replace the host's line in known_hosts",
			e.Host, e.KnownHosts, e.Fingerprint)
	default:
		return fmt.Sprintf("the host key of %s is not in known_hosts %q (the server presented %s): confirm this fingerprint with the server's administrator, then add this line to known_hosts: %s",
			e.Host, e.KnownHosts, e.Fingerprint, e.Line)
	}
}

func (d *sftpDest) hostKeyError(err error, key ssh.PublicKey) error {
	he := &HostKeyError{
		Host:        d.addr,
		KnownHosts:  d.knownHosts,
		Fingerprint: ssh.FingerprintSHA256(key),
		Line:        knownhosts.Line([]string{d.addr}, key),
	}
	var ke *knownhosts.KeyError
	var re *knownhosts.RevokedError
	switch {
	case errors.As(err, &re):
		he.Revoked = true
	case errors.As(err, &ke):
		he.Changed = len(ke.Want) > 0
	default:
		return fmt.Errorf("cannot check the host key of %s against known_hosts %q: %w", d.addr, d.knownHosts, err)
	}
	return he
}

// String is sftp://host:port/dir, without user name or key; a folder
// relative to the login folder is shown under /~/.
func (d *sftpDest) String() string { return d.url(d.dir) }

func (d *sftpDest) url(p string) string {
	if !path.IsAbs(p) {
		p = path.Join("/~", p)
	}
	u := url.URL{Scheme: "sftp", Host: d.addr, Path: p}
	return u.String()
}

// Deliver uploads the bundle to <dir>/.<name>.part-<random>, checks its
// size, and renames it to <dir>/<name>, replacing an earlier delivery.
// Once the upload is complete and checked, cancelling ctx no longer stops
// the (short) rename, so the outcome is never in doubt.
func (d *sftpDest) Deliver(ctx context.Context, bundlePath string) (Receipt, error) {
	name, err := bundleName(bundlePath)
	if err != nil {
		return Receipt{}, fmt.Errorf("deliver to %s: %w", d, err)
	}
	rec, err := d.deliver(ctx, bundlePath, name)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil && !cancelled(err) {
			err = fmt.Errorf("%w: %v", cerr, err)
		}
		return Receipt{}, fmt.Errorf("deliver %q to %s: %w", name, d, err)
	}
	return rec, nil
}

func (d *sftpDest) deliver(ctx context.Context, bundlePath, name string) (rec Receipt, err error) {
	src, err := os.Open(bundlePath)
	if err != nil {
		return Receipt{}, fmt.Errorf("cannot read the bundle: %w", err)
	}
	defer src.Close()
	si, err := src.Stat()
	if err != nil {
		return Receipt{}, fmt.Errorf("cannot read the bundle: %w", err)
	}
	if !si.Mode().IsRegular() {
		return Receipt{}, fmt.Errorf("the bundle %q is not a regular file", bundlePath)
	}
	size := si.Size()

	s, err := d.connect(ctx)
	if err != nil {
		return Receipt{}, err
	}
	defer s.close()

	dir, err := s.remoteDir()
	if err != nil {
		return Receipt{}, err
	}
	final := path.Join(dir, name)
	tmp := path.Join(dir, tempName(name)+randomHex())

	s.extend()
	f, err := s.sc.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return Receipt{}, fmt.Errorf("cannot create a file in the remote folder: %w: check that user %q may write there and that the server's disk is not full", err, d.user)
	}
	defer func() {
		if err == nil {
			return
		}
		if cerr := s.cleanup(f, tmp); cerr != nil {
			err = fmt.Errorf("%w; the partial upload %q could not be removed (%v): remove it on the server", err, tmp, cerr)
		}
	}()

	s.uploading.Store(true)
	r := newSendReader(ctx, src, func(n int64) {
		s.extend() // the idle timeout counts from the last progress
		if d.progress != nil {
			d.progress(n)
		}
	})
	n, err := f.ReadFromWithConcurrency(r, 0)
	if err != nil {
		return Receipt{}, s.uploadError(err)
	}
	if n != size {
		return Receipt{}, fmt.Errorf("the bundle changed while it was sent (%d bytes, expected %d): export it again", n, size)
	}
	s.extend()
	err = f.Close()
	f = nil
	if err != nil {
		return Receipt{}, fmt.Errorf("the server reported an error when closing the upload: %w", err)
	}
	if err = s.checkSize(tmp, size); err != nil {
		return Receipt{}, err
	}

	// The point of no return: from here on the delivery completes even if
	// ctx is cancelled (a cancelled ctx has already cut the connection
	// short when stopWatch reports false).
	if !s.stopWatch() {
		return Receipt{}, fmt.Errorf("upload cancelled: %w", context.Cause(ctx))
	}
	s.extend()
	if err = s.rename(tmp, final); err != nil {
		return Receipt{}, fmt.Errorf("cannot rename the upload to its final name: %w", err)
	}
	if err = s.checkSize(final, size); err != nil {
		if rerr := s.sc.Remove(final); rerr != nil {
			err = fmt.Errorf("%w; and it could not be removed (%v): remove %q on the server", err, rerr, final)
		}
		return Receipt{}, err
	}
	return Receipt{Destination: d.url(final), Bytes: n, SHA256: r.sum(), At: now()}, nil
}

// uploadError says why an upload failed and what to do.
func (s *session) uploadError(err error) error {
	switch {
	case s.ctx.Err() != nil:
		return fmt.Errorf("upload cancelled: %w", context.Cause(s.ctx))
	case isTimeout(err) || s.expired():
		return fmt.Errorf("the upload stalled for %s: check the server and the network, then deliver again", s.d.timeout)
	case errors.Is(err, sftp.ErrSSHFxConnectionLost) || errors.Is(err, io.EOF):
		return fmt.Errorf("the connection was lost during the upload: check the server and the network, then deliver again")
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("the server refused the upload (%w): check that user %q may write to the remote folder", err, s.d.user)
	}
	return fmt.Errorf("upload failed: %w: check that the server's disk is not full and that user %q may write to the remote folder", err, s.d.user)
}

// session is one connection for one delivery.
type session struct {
	d         *sftpDest
	ctx       context.Context
	nc        net.Conn
	ssh       *ssh.Client
	sc        *sftp.Client
	uploading atomic.Bool
	stopWatch func() bool // stops the cancellation watch; false if it already fired
}

// timeoutConn records whether a read or write hit the deadline, which the
// SFTP client reports only as a lost connection.
type timeoutConn struct {
	net.Conn
	timedOut atomic.Bool
}

func (c *timeoutConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil && isTimeout(err) {
		c.timedOut.Store(true)
	}
	return n, err
}

func (c *timeoutConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil && isTimeout(err) {
		c.timedOut.Store(true)
	}
	return n, err
}

// expired reports whether the connection was cut by its deadline: the
// server stopped answering.
func (s *session) expired() bool { return s.nc.(*timeoutConn).timedOut.Load() }

// connect dials the server, checks its host key, logs in with the key and
// starts SFTP. Cancelling ctx cuts the connection: at once before the
// upload starts, after cancelGrace during it.
func (d *sftpDest) connect(ctx context.Context) (*session, error) {
	dialer := net.Dialer{Timeout: d.timeout}
	raw, err := dialer.DialContext(ctx, "tcp", d.addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("cannot connect: %w: check host and port, and that the server is up and reachable from here", err)
	}
	nc := &timeoutConn{Conn: raw}
	s := &session{d: d, ctx: ctx, nc: nc}
	nc.SetDeadline(time.Now().Add(d.timeout))
	s.stopWatch = context.AfterFunc(ctx, func() {
		if s.uploading.Load() {
			nc.SetDeadline(time.Now().Add(cancelGrace))
		} else {
			nc.SetDeadline(time.Unix(1, 0))
		}
	})
	fail := func(err error) (*session, error) {
		s.stopWatch()
		nc.Close()
		return nil, err
	}

	var hostErr error
	conf := &ssh.ClientConfig{
		User: d.user,
		Auth: []ssh.AuthMethod{ssh.PublicKeys(d.signer)},
		HostKeyCallback: func(host string, remote net.Addr, key ssh.PublicKey) error {
			if err := d.hostKeys(host, remote, key); err != nil {
				hostErr = d.hostKeyError(err, key)
				return hostErr
			}
			return nil
		},
		HostKeyAlgorithms: d.hostAlgos,
		Timeout:           d.timeout,
	}
	c, chans, reqs, err := ssh.NewClientConn(nc, d.addr, conf)
	if err != nil {
		msg := err.Error()
		switch {
		case hostErr != nil:
			return fail(hostErr)
		case ctx.Err() != nil:
			return fail(ctx.Err())
		case strings.Contains(msg, "unable to authenticate"):
			return fail(fmt.Errorf("the server refused key_file %q (%s) for user %q: add its public key to the user's authorized_keys on the server",
				d.keyFile, ssh.FingerprintSHA256(d.signer.PublicKey()), d.user))
		case strings.Contains(msg, "no common algorithm for host key"):
			return fail(fmt.Errorf("the server offers none of the host key types that known_hosts %q lists for %s (%s): its key has changed or someone is intercepting the connection; deliver nothing until the server's administrator confirms its current key, then replace the host's line in known_hosts",
				d.knownHosts, d.addr, strings.Join(d.hostAlgos, ", ")))
		case isTimeout(err) || nc.timedOut.Load():
			return fail(fmt.Errorf("the server did not complete the SSH handshake within %s: check host and port, and that it is an SSH server", d.timeout))
		}
		return fail(fmt.Errorf("ssh handshake failed: %w", err))
	}
	s.ssh = ssh.NewClient(c, chans, reqs)
	s.sc, err = sftp.NewClient(s.ssh, sftp.UseConcurrentWrites(true))
	if err != nil {
		s.ssh.Close()
		return fail(fmt.Errorf("cannot start SFTP: %w: ask the server's administrator to enable SFTP for user %q", err, d.user))
	}
	return s, nil
}

func (s *session) close() {
	s.stopWatch()
	if s.sc != nil {
		s.sc.Close()
	}
	s.ssh.Close()
}

// extend moves the connection's deadline to timeout from now, unless the
// delivery is cancelled (the cancellation watch has set a shorter one).
func (s *session) extend() {
	if s.ctx.Err() != nil {
		return
	}
	s.nc.SetDeadline(time.Now().Add(s.d.timeout))
	if s.ctx.Err() != nil && s.uploading.Load() {
		s.nc.SetDeadline(time.Now().Add(cancelGrace))
	}
}

// remoteDir checks the remote folder and returns its absolute path.
func (s *session) remoteDir() (string, error) {
	s.extend()
	fi, err := s.sc.Stat(s.d.dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("the remote folder does not exist: create it on the server or correct dir")
	case err != nil:
		return "", fmt.Errorf("cannot read the remote folder: %w: check dir and that user %q may use it", err, s.d.user)
	case !fi.IsDir():
		return "", fmt.Errorf("the remote dir is not a folder: correct dir")
	}
	abs, err := s.sc.RealPath(s.d.dir)
	if err != nil || !path.IsAbs(abs) {
		return s.d.dir, nil
	}
	return abs, nil
}

func (s *session) checkSize(p string, size int64) error {
	s.extend()
	fi, err := s.sc.Stat(p)
	if err != nil {
		return fmt.Errorf("cannot check the uploaded file: %w", err)
	}
	if fi.Size() != size {
		return fmt.Errorf("the uploaded file has %d bytes on the server, expected %d: check the server's disk space and quota, then deliver again", fi.Size(), size)
	}
	return nil
}

// rename moves tmp to final, replacing final. It uses the
// posix-rename@openssh.com extension, which replaces atomically, where the
// server offers it; otherwise (or if the server refuses it) a plain SFTP
// rename, which does not replace, after removing an earlier delivery.
func (s *session) rename(tmp, final string) error {
	var first error
	if _, ok := s.sc.HasExtension("posix-rename@openssh.com"); ok {
		if first = s.sc.PosixRename(tmp, final); first == nil {
			return nil
		}
	}
	err := s.sc.Rename(tmp, final)
	if err == nil {
		return nil
	}
	if first == nil {
		first = err
	}
	fi, serr := s.sc.Lstat(final)
	if serr != nil || !fi.Mode().IsRegular() {
		return first
	}
	if err := s.sc.Remove(final); err != nil {
		return fmt.Errorf("cannot replace the earlier delivery: %w", err)
	}
	return s.sc.Rename(tmp, final)
}

// cleanup closes and removes the temporary file after a failure, over a
// new connection if this one is gone.
func (s *session) cleanup(f *sftp.File, tmp string) error {
	s.extend()
	if f != nil {
		f.Close()
	}
	err := s.sc.Remove(tmp)
	if err == nil || errors.Is(err, os.ErrNotExist) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 2*s.d.timeout)
	defer cancel()
	s2, err := s.d.connect(ctx)
	if err != nil {
		return err
	}
	defer s2.close()
	s2.extend()
	if err := s2.sc.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded)
}

func randomHex() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
