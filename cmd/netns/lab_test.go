package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/netns"
)

const labDemo = `lab: NAME
nodes:
  r1:
    sysctls: {net.ipv4.ip_forward: "1"}
  h1:
    routes: ["default via 10.0.1.1"]
  h2:
    routes: ["default via 10.0.2.1"]
  sw:
    kind: bridge
links:
  - endpoints: [r1:eth0, h1:eth0]
    addresses: [10.0.1.1/24, 10.0.1.2/24]
  - endpoints: [r1:eth1, h2:eth0]
    addresses: [10.0.2.1/24, 10.0.2.2/24]
`

// labFile writes text with NAME replaced by a fresh lab name.
func labFile(t *testing.T, text string) (name, file string) {
	t.Helper()
	name = nstest.TempName(t)
	file = filepath.Join(t.TempDir(), "lab.yaml")
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(text, "NAME", name)), 0o644); err != nil {
		t.Fatal(err)
	}
	return name, file
}

func labChanges(t *testing.T, out string) int {
	t.Helper()
	var r struct {
		Changes *int `json:"changes"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Changes == nil {
		t.Fatalf("lab -j output %q: %v", out, err)
	}
	return *r.Changes
}

func TestLabApplyStatusDestroy(t *testing.T) {
	nstest.RequireIP(t)
	name, file := labFile(t, labDemo)
	t.Cleanup(func() { runNetns(t, "lab", "destroy", name) })
	// --dry-run changes nothing.
	out := mustNetns(t, "lab", "apply", file, "--dry-run")
	if !strings.Contains(out, "create node h1 "+name+"-h1") || !strings.HasSuffix(out, "13 changes (dry run: nothing done)\n") {
		t.Errorf("dry run printed %q", out)
	}
	if names, _ := netns.List(); slices.Contains(names, name+"-h1") {
		t.Fatal("--dry-run created a namespace")
	}
	out, errs, code := runNetns(t, "lab", "apply", file, "-j")
	if code != 0 || errs != "" || labChanges(t, out) != 13 {
		t.Fatalf("apply: exit %d, %q, stderr %q (no progress line when not a terminal)", code, out, errs)
	}
	if n := labChanges(t, mustNetns(t, "lab", "apply", file, "-j")); n != 0 {
		t.Errorf("re-apply: %d changes, want 0", n)
	}
	// status by name, from the record: matches, exit 0.
	out, _, code = runNetns(t, "lab", "status", name)
	if code != 0 || !strings.Contains(out, "matches its file") || !strings.Contains(out, "link r1:eth0 -- h1:eth0 up") {
		t.Errorf("status: exit %d:\n%s", code, out)
	}
	// Drift: a route removed by hand. status says so and exits 1;
	// apply puts back exactly that.
	nstest.MustIP(t, "-n", name+"-h1", "route", "del", "default")
	out, _, code = runNetns(t, "lab", "status", file)
	if code != 1 || !strings.Contains(out, "drift: create route h1 default via 10.0.1.1") {
		t.Errorf("status after drift: exit %d:\n%s", code, out)
	}
	if out := mustNetns(t, "lab", "apply", file); out != "lab "+name+": 1 changes (1 created, 0 changed, 0 deleted)\n" {
		t.Errorf("apply after drift: %q", out)
	}
	// graph, from the file and from the record.
	for _, arg := range []string{file, name} {
		if out := mustNetns(t, "lab", "graph", arg); !strings.Contains(out, `"r1" -- "h1" [taillabel="eth0\n10.0.1.1/24", headlabel="eth0\n10.0.1.2/24"];`) {
			t.Errorf("graph %s:\n%s", arg, out)
		}
	}
	if out := mustNetns(t, "lab", "graph", file, "--mermaid"); !strings.HasPrefix(out, "graph LR\n") || !strings.Contains(out, `n3(("sw"))`) {
		t.Errorf("graph --mermaid:\n%s", out)
	}
	// destroy by name spares a namespace ip made with the lab's prefix.
	nstest.MustIP(t, "netns", "add", name+"-x")
	defer nstest.Remove(t, name+"-x")
	if out := mustNetns(t, "lab", "destroy", name); out != "lab "+name+": 4 namespaces deleted\n" {
		t.Errorf("destroy: %q", out)
	}
	names, _ := netns.List()
	for _, n := range names {
		if strings.HasPrefix(n, name+"-") && n != name+"-x" {
			t.Errorf("left: %s", n)
		}
	}
	if !slices.Contains(names, name+"-x") {
		t.Error("destroy deleted a namespace ip made")
	}
	// Nothing recorded any more: status by name fails.
	if _, errs, code := runNetns(t, "lab", "status", name); code != 1 || !strings.Contains(errs, "no record") {
		t.Errorf("status of a destroyed lab: exit %d %q", code, errs)
	}
}

// Every kind of bad file is reported with its line and creates nothing:
// no namespace, no record.
func TestLabBadFile(t *testing.T) {
	nstest.RequireIP(t)
	for _, c := range []struct{ name, tail, want string }{
		{"unknown node", "  - [r1:eth2, nope:eth0]\n", `:16: link: endpoint "nope:eth0": unknown node "nope"`},
		{"endpoint twice", "  - [r1:eth0, h2:eth1]\n", `:16: link: endpoint "r1:eth0" used twice (first at line 12)`},
		{"long ifname", "  - [r1:eth0123456789abc, h2:eth1]\n", `:16: link: endpoint "r1:eth0123456789abc": invalid interface name`},
		{"not a prefix", "  - {endpoints: [r1:eth2, h2:eth1], addresses: [10.0.3.1, 10.0.3.2/24]}\n", `:16: link r1:eth2--h2:eth1: address "10.0.3.1" is not a prefix`},
		{"unknown key", "extra: 1\n", `:16: lab file: unknown key "extra"`},
		{"invalid YAML", "\t- [r1:eth2, h2:eth1]\n", `:16: invalid YAML`},
		{"bad prefix", "  - [r1:eth2, h2:eth1]\nprefix: a/\n", `:17: invalid prefix "a/"`},
		{"invalid node name", "  - [r1:eth2, h2:eth1]\n", ""},
	} {
		text := labDemo + c.tail
		if c.name == "invalid node name" {
			text = strings.Replace(labDemo, "  h2:\n", "  \"h 2\":\n", 1)
			c.want = `:7: invalid node name "h 2"`
		}
		_, file := labFile(t, text)
		before, _ := netns.List()
		_, errs, code := runNetns(t, "lab", "apply", file)
		if code != 1 || !strings.HasPrefix(errs, "netns: "+file+c.want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q, want %q", c.name, code, errs, file+c.want)
		}
		after, _ := netns.List()
		if len(after) != len(before) {
			t.Errorf("%s: namespaces %v became %v", c.name, before, after)
		}
		if recs, _ := filepath.Glob("/run/setns/labs/*"); len(recs) != 0 {
			t.Errorf("%s: records written: %v", c.name, recs)
		}
	}
}

func TestLabUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"lab"}, "netns: lab: want apply, destroy, status or graph"},
		{[]string{"lab", "apply"}, "netns: lab apply: want a lab FILE"},
		{[]string{"lab", "apply", "x.yaml", "--mermaid"}, `netns: lab apply: unknown option "--mermaid"`},
		{[]string{"lab", "graph", "a", "b"}, `netns: lab graph: want one FILE or LAB, got "b" too`},
		{[]string{"lab", "frob"}, `netns: lab: unknown command "frob"`},
		{[]string{"la", "apply"}, `netns: unknown command "la"`},
	} {
		_, errs, code := runNetns(t, c.args...)
		if code != 255 || !strings.HasPrefix(errs, c.want) {
			t.Errorf("netns %s: exit %d, %q; want 255, %q", strings.Join(c.args, " "), code, errs, c.want)
		}
	}
}

// TestLabOwner: a node with owner: is a delegated namespace (list
// --owners shows its owner); the owner enters it with setns, without
// privilege, and adds an address; applying again changes nothing;
// destroy leaves nothing in /run/netns or /run/setns/userns. A bad owner
// is refused with FILE:LINE and nothing is made.
func TestLabOwner(t *testing.T) {
	nstest.RequireIP(t)
	t.Parallel()
	setns := os.Getenv("SETNS_TEST_BINARY")
	if setns == "" {
		t.Skip("SETNS_TEST_BINARY not set")
	}
	dir := t.TempDir()
	write := func(name, text string) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	good := write("good.yaml", "lab: o\nnodes:\n  r1: {}\n  h1:\n    owner: \"4242\"\nlinks:\n  - endpoints: [r1:eth0, h1:eth0]\n    addresses: [10.0.1.1/24, 10.0.1.2/24]\n")
	unknown := write("unknown.yaml", "lab: u\nowner: nstest-no-such-user\nnodes: {a: {}}\n")
	gid0 := write("gid0.yaml", "lab: g\nnodes:\n  a: {}\n  b: {owner: \"4242:0\"}\n")
	out := sandboxed(t, `
cp "`+setns+`" /run/setns-bin; chmod 755 /run/setns-bin
$NETNS lab apply `+good+` >/dev/null; echo rc=$?
$NETNS list --owners | sort
setpriv --reuid=4242 --regid=4242 --clear-groups /run/setns-bin o-h1 sh -c 'ip addr add 10.9.9.9/32 dev lo && id -u' 2>&1; echo rc=$?
ip -n o-h1 -o addr show dev lo to 10.9.9.9 | wc -l
setpriv --reuid=4243 --regid=4243 --clear-groups /run/setns-bin o-h1 true >/dev/null 2>&1; echo other rc=$?
$NETNS -j lab apply `+good+` | grep -o '"changes":[0-9]*'
$NETNS lab destroy o >/dev/null; echo rc=$?
ls -A /run/netns /run/setns/userns | tr '\n' ' '; echo
$NETNS lab apply `+unknown+` 2>&1; echo rc=$?
$NETNS lab apply `+gid0+` 2>&1; echo rc=$?
ls -A /run/netns /run/setns/userns 2>&1 | tr '\n' ' '; echo
`)
	want := `rc=0
o-h1 (owner: uid 4242)
o-r1
0
rc=0
1
other rc=1
"changes":0
rc=0
/run/netns:  /run/setns/userns: 
netns: ` + unknown + `:2: owner: unknown user "nstest-no-such-user"
rc=1
netns: ` + gid0 + `:4: node b: owner: "4242:0": the group must not be root (gid 0)
rc=1
/run/netns:  /run/setns/userns: 
`
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}
