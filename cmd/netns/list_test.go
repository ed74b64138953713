package main

import (
	"strings"
	"testing"

	"github.com/setns/setns/internal/nstest"
)

// TestListIDChecksArgsFirst: a bad list-id argument is refused before the
// run directory is read, so the kernel's complaint about each junk entry
// (which a good list-id prints, as ip does) does not bury the error.
func TestListIDChecksArgsFirst(t *testing.T) {
	nstest.RequireRoot(t)
	t.Parallel()
	out := sandboxed(t, `
$NETNS add a
touch /run/netns/junk1 /run/netns/junk2
for args in 'nsid x' 'target-nsid' 'nsid 1 nsid 2' 'bogus' ''; do
	$NETNS list-id $args >/dev/null 2>/run/err; echo "rc=$? junk=$(grep -c "junk[12]" /run/err)"
done
`)
	want := strings.Repeat("rc=255 junk=0\n", 4) + "rc=0 junk=2\n"
	if out != want {
		t.Errorf("exit status and junk lines for each bad list-id, then a good one:\n%s\nwant:\n%s", out, want)
	}
}
