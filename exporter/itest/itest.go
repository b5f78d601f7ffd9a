// Package itest gates tests that need a real component (GnuPG, Sequoia,
// openpyxl, a database server). On a laptop a missing component skips the
// test with a one-line reason; in CI, where DSAR_REQUIRE_INTEGRATION=1, it
// fails the test, so a green CI run means every real component was used.
package itest

import (
	"os"
	"os/exec"
	"testing"
)

// Required reports whether missing components must fail tests.
func Required() bool { return os.Getenv("DSAR_REQUIRE_INTEGRATION") == "1" }

// Need skips (or, when Required, fails) t if err is not nil. what names
// the component, e.g. "gpg (Debian package gnupg)".
func Need(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if Required() {
		t.Fatalf("%s is required (DSAR_REQUIRE_INTEGRATION=1) but unavailable: %v", what, err)
	}
	t.Skipf("skipping: %s unavailable: %v", what, err)
}

// LookPath returns the path of the named program or skips/fails t.
func LookPath(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	Need(t, name+" (Debian package "+pkg+")", err)
	return p
}

// Python returns a python3 interpreter that can import module, trying
// python3 on PATH first and then Debian's /usr/bin/python3 (where
// python3-<module> packages install), or skips/fails t.
func Python(t testing.TB, module string) string {
	t.Helper()
	var last error
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		path, err := exec.LookPath(p)
		if err != nil {
			last = err
			continue
		}
		if err := exec.Command(path, "-c", "import "+module).Run(); err != nil {
			last = err
			continue
		}
		return path
	}
	Need(t, "python3 with "+module+" (Debian package python3-"+module+")", last)
	return ""
}
