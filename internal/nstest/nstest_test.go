package nstest_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/setns/setns/internal/nstest"
)

// childEnv makes TestNeedTool the child that its cases run.
const childEnv = "NSTEST_NEEDTOOL_CHILD"

// TestNeedTool: a missing tool skips the test with one line naming the
// tool and its package, except under CI=true, where the test fails.
func TestNeedTool(t *testing.T) {
	if os.Getenv(childEnv) == "1" { // the child the cases below run
		nstest.NeedTool(t, "nstest-no-such-tool", "nstest-pkg")
		t.Log("reached past NeedTool")
		return
	}
	for _, tc := range []struct {
		ci, want string
		fails    bool
	}{
		{"", "--- SKIP", false},
		{"false", "--- SKIP", false},
		{"true", "--- FAIL", true},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestNeedTool$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), childEnv+"=1", "CI="+tc.ci)
		out, err := cmd.CombinedOutput()
		if (err != nil) != tc.fails {
			t.Errorf("CI=%q: exit error %v, want failure %v\n%s", tc.ci, err, tc.fails, out)
		}
		reason := "needs nstest-no-such-tool, not found in PATH (Debian package nstest-pkg)"
		if !strings.Contains(string(out), tc.want) || !strings.Contains(string(out), reason) {
			t.Errorf("CI=%q: output lacks %q and %q:\n%s", tc.ci, tc.want, reason, out)
		}
		if strings.Contains(string(out), "reached past NeedTool") {
			t.Errorf("CI=%q: the test went on without the tool:\n%s", tc.ci, out)
		}
	}
	if p := nstest.NeedTool(t, "sh", "dash"); p == "" {
		t.Error(`NeedTool("sh") returned ""`)
	}
}
