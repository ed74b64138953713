package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/link"
	"github.com/setns/setns/netns"
)

// runNetns runs this test binary as netns with args.
func runNetns(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	// A race-enabled child would sleep a second at exit (atexit_sleep_ms).
	return nstest.Run(t, "", "env", append([]string{"NETNS_RUN_MAIN=1", "GORACE=atexit_sleep_ms=0", self}, args...)...)
}

// mustNetns is runNetns that fails the test unless netns exits 0.
func mustNetns(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, code := runNetns(t, args...)
	if code != 0 {
		t.Fatalf("netns %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	return out
}

// ifaces returns "NAME:UP:ADDR/LEN,..." for each interface of ns but lo,
// from ip(8), IPv6 link-locals left out.
func ifaces(t *testing.T, ns string) []string {
	t.Helper()
	var links []struct {
		Name  string   `json:"ifname"`
		Flags []string `json:"flags"`
		Addrs []struct {
			Local string `json:"local"`
			Len   int    `json:"prefixlen"`
			Scope string `json:"scope"`
		} `json:"addr_info"`
	}
	out := nstest.MustIP(t, "-n", ns, "-j", "addr", "show")
	if err := json.Unmarshal([]byte(out), &links); err != nil {
		t.Fatalf("ip -n %s -j addr: %v", ns, err)
	}
	var got []string
	for _, l := range links {
		up := strings.Contains(strings.Join(l.Flags, ","), "UP")
		if l.Name == "lo" {
			if !up {
				t.Errorf("%s: lo is down", ns)
			}
			continue
		}
		s := fmt.Sprintf("%s:%v:", l.Name, up)
		for _, a := range l.Addrs {
			if a.Scope == "global" {
				s += fmt.Sprintf("%s/%d,", a.Local, a.Len)
			}
		}
		got = append(got, s)
	}
	return got
}

func TestLinkVerbIsExact(t *testing.T) {
	for word, want := range map[string]string{"link": "link", "lin": "", "li": "list", "l": "list", "links": ""} {
		got := ""
		if i := lookupVerb(word); i >= 0 {
			got = verbs[i].names[0]
		}
		if got != want {
			t.Errorf("lookupVerb(%q) = %q, want %q", word, got, want)
		}
	}
}

func TestParseLinkAdd(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string // the two ends as NS|IF|ADDRS, or the error
	}{
		{[]string{"a:eth0", "b:eth1"}, "a|eth0|[] b|eth1|[]"},
		{[]string{"a:eth0", "--addr", "10.0.0.1/24", "b:eth1", "--addr=fd00::2/64"}, "a|eth0|[10.0.0.1/24] b|eth1|[fd00::2/64]"},
		{[]string{"--addr", "10.0.0.1/24", ".:veth0", "x:y:e"}, ".|veth0|[10.0.0.1/24] x:y|e|[]"},
		{[]string{"a:eth0"}, "want two endpoints NS1:IF1 NS2:IF2, got 1"},
		{[]string{"a:e", "b:e", "c:e"}, `want two endpoints NS1:IF1 NS2:IF2, got a third, "c:e"`},
		{[]string{"a:e", "b:e", "--addr"}, "--addr needs a value (ADDRESS/LEN)"},
		{[]string{"a:e", "b:e", "--addr", "10.0.0.1"}, `invalid --addr "10.0.0.1": want ADDRESS/LEN`},
		{[]string{"a:e", "b:e", "--addr", "1/1", "--addr", "2/2"}, `invalid --addr "1/1": want ADDRESS/LEN`},
		{[]string{"a:e", "b:e", "--addr=1.0.0.1/8", "--addr=1.0.0.2/8", "--addr=1.0.0.3/8"}, "--addr given more than twice (NS1's end, then NS2's)"},
		{[]string{"a:e", "b:e", "-j"}, `unknown option "-j"`},
		{[]string{"a:e", "b/c:e"}, `endpoint "b/c:e": invalid namespace name: contains "/"`},
		{[]string{"a:e", "b:0123456789abcdef"}, `endpoint "b:0123456789abcdef": invalid interface name "0123456789abcdef": 16 bytes, longer than 15`},
		{[]string{"a:e", "b"}, `endpoint "b": want NS:IF (.:IF for this namespace)`},
	} {
		ends, err := parseLinkAdd(c.args)
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			for i, e := range ends {
				if i > 0 {
					got += " "
				}
				got += fmt.Sprintf("%s|%s|%v", e.nsName, e.Name, e.Addrs)
			}
		}
		if got != c.want {
			t.Errorf("parseLinkAdd(%q):\n got %s\nwant %s", c.args, got, c.want)
		}
	}
}

func TestLinkAddDelList(t *testing.T) {
	nstest.RequireIP(t)
	a, an := nstest.NewNamed(t)
	b, bn := nstest.NewNamed(t)
	mustNetns(t, "link", "add", an+":eth0", bn+":eth1", "--addr", "10.7.0.1/24", "--addr=10.7.0.2/24")
	if got := ifaces(t, an); strings.Join(got, " ") != "eth0:true:10.7.0.1/24," {
		t.Errorf("%s: %v, want eth0 up with 10.7.0.1/24", an, got)
	}
	if got := ifaces(t, bn); strings.Join(got, " ") != "eth1:true:10.7.0.2/24," {
		t.Errorf("%s: %v, want eth1 up with 10.7.0.2/24", bn, got)
	}

	// TCP from b to a over the link.
	var l net.Listener
	if err := a.Do(func() (err error) { l, err = net.Listen("tcp", "10.7.0.1:0"); return err }); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		if s, err := l.Accept(); err == nil {
			io.Copy(s, s)
			s.Close()
		}
	}()
	var c net.Conn
	if err := b.Do(func() (err error) { c, err = net.DialTimeout("tcp", l.Addr().String(), 10*time.Second); return err }); err != nil {
		t.Fatalf("dial from %s: %v", bn, err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintln(c, "ping")
	if line, err := bufio.NewReader(c).ReadString('\n'); line != "ping\n" {
		t.Errorf("echo over the link: %q, %v", line, err)
	}
	c.Close()

	out := mustNetns(t, "link", "list", an)
	if !strings.HasPrefix(out, an+":eth0 <-> "+bn+":eth1 up ") || !strings.Contains(out, " 10.7.0.1/24") || strings.Count(out, "\n") != 1 {
		t.Errorf("link list %s = %q", an, out)
	}
	var links []link.Link
	if err := json.Unmarshal([]byte(mustNetns(t, "link", "list", bn, "-j")), &links); err != nil {
		t.Fatalf("link list -j: %v", err)
	}
	if len(links) != 1 || links[0].NS != bn || links[0].Name != "eth1" || links[0].Peer.NS != an || links[0].Peer.Name != "eth0" || !links[0].Up {
		t.Errorf("link list %s -j = %+v", bn, links)
	}
	all := mustNetns(t, "-j", "link", "list")
	if !strings.Contains(all, `"ns":"`+an+`"`) || !strings.Contains(all, `"ns":"`+bn+`"`) {
		t.Errorf("link list -j (all) lacks the link: %s", all)
	}

	mustNetns(t, "link", "del", bn+":eth1")
	if got := append(ifaces(t, an), ifaces(t, bn)...); len(got) != 0 {
		t.Errorf("after del: %v left", got)
	}
	if out := mustNetns(t, "link", "list", an, "-j"); out != "[]\n" {
		t.Errorf("link list -j after del = %q, want []", out)
	}
}

// TestLinkHost: ".:IF" is the namespace netns runs in. The test never
// touches the machine's own network: netns runs with -n inside a
// throwaway namespace that plays the host.
func TestLinkHost(t *testing.T) {
	nstest.RequireIP(t)
	_, host := nstest.NewNamed(t)
	_, bn := nstest.NewNamed(t)
	mustNetns(t, "-n", host, "link", "add", ".:veth-x", bn+":eth0", "--addr", "10.7.1.1/30")
	if got := strings.Join(ifaces(t, host), " "); got != "veth-x:true:10.7.1.1/30," {
		t.Errorf("host end: %q", got)
	}
	if got := strings.Join(ifaces(t, bn), " "); got != "eth0:true:" {
		t.Errorf("%s end: %q", bn, got)
	}
	// Under -n, this namespace is listed by its name, once.
	out := mustNetns(t, "-n", host, "link", "list")
	if want := host + ":veth-x <-> " + bn + ":eth0 up "; !strings.Contains(out, want) || strings.Contains(out, ".:") {
		t.Errorf("link list = %q, want a line with %q and no \".:\"", out, want)
	}
	out = mustNetns(t, "-n", host, "link", "list", ".")
	if !strings.HasPrefix(out, host+":veth-x <-> ") {
		t.Errorf("link list . = %q", out)
	}
	mustNetns(t, "-n", host, "link", "del", ".:veth-x")
	if got := append(ifaces(t, host), ifaces(t, bn)...); len(got) != 0 {
		t.Errorf("after del: %v left", got)
	}
}

func TestLinkErrors(t *testing.T) {
	nstest.RequireIP(t)
	_, an := nstest.NewNamed(t)
	_, bn := nstest.NewNamed(t)
	missing := nstest.TempName(t)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"link", "add", an + ":eth0", missing + ":eth0"}, 1, `netns: link add "` + missing + `:eth0": no namespace "` + missing + `" (make it with "netns add ` + missing + `")`},
		{[]string{"link", "add", an + ":eth0", bn + ":" + strings.Repeat("x", 16)}, 255, `netns: link add: endpoint "` + bn + `:xxxxxxxxxxxxxxxx": invalid interface name "xxxxxxxxxxxxxxxx": 16 bytes, longer than 15`},
		{[]string{"link", "add", an + ":eth0", bn + ":a b"}, 255, "invalid interface name"},
		{[]string{"link", "add", an + ":eth0", "eth1"}, 255, `want NS:IF`},
		{[]string{"link", "add", an + ":eth0"}, 255, "want two endpoints"},
		{[]string{"link", "add", an + ":e", bn + ":e", "--addr", "10.0.0.1/24", "--addr", "10.0.0.2/24", "--addr", "10.0.0.3/24"}, 255, "more than twice"},
		{[]string{"link", "add", an + ":e", bn + ":e", "--addr", "10.0.0.1"}, 255, `invalid --addr "10.0.0.1"`},
		{[]string{"link", "add", an + ":e", bn + ":e", "--mtu", "9000"}, 255, `unknown option "--mtu"`},
		{[]string{"link", "del", an + ":lo"}, 1, `netns: link del "` + an + `:lo": not made by setns`},
		{[]string{"link", "del", an + ":nosuch"}, 1, `netns: link del "` + an + `:nosuch": `},
		{[]string{"link", "del", missing + ":eth0"}, 1, `no namespace`},
		{[]string{"link", "list", missing}, 1, `netns: link list: no namespace "` + missing + `"`},
		{[]string{"link", "frob"}, 255, `link: unknown command "frob"`},
	} {
		_, errs, code := runNetns(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("netns %s: exit %d, stderr %q; want exit %d and one line with %q", strings.Join(c.args, " "), code, errs, c.code, c.want)
		}
	}
	for _, ns := range []string{an, bn} {
		if got := ifaces(t, ns); len(got) != 0 {
			t.Errorf("failed commands left %v in %s", got, ns)
		}
	}
	if _, err := os.Stat(netns.RunDir + "/" + missing); !os.IsNotExist(err) {
		t.Errorf("link add made the missing namespace %s: %v", missing, err)
	}
}

// TestLinkAddConcurrent runs many "netns link add" at once between
// distinct pairs of namespaces; all must succeed.
func TestLinkAddConcurrent(t *testing.T) {
	nstest.RequireRoot(t)
	const n = 12
	var names [n][2]string
	for i := range names {
		_, names[i][0] = nstest.NewNamed(t)
		_, names[i][1] = nstest.NewNamed(t)
	}
	cmds := make([]*exec.Cmd, n)
	outs := make([]strings.Builder, n)
	for i := range cmds {
		cmds[i] = exec.Command(self, "link", "add", names[i][0]+":eth0", names[i][1]+":eth0",
			"--addr", fmt.Sprintf("10.6.%d.1/24", i), "--addr", fmt.Sprintf("10.6.%d.2/24", i))
		cmds[i].Env = append(os.Environ(), "NETNS_RUN_MAIN=1", "GORACE=atexit_sleep_ms=0")
		cmds[i].Stderr = &outs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Errorf("link add #%d: %v: %s", i, err, outs[i].String())
		}
	}
	for i := range names {
		if got := strings.Join(ifaces(t, names[i][1]), " "); got != fmt.Sprintf("eth0:true:10.6.%d.2/24,", i) {
			t.Errorf("pair #%d: %s has %q", i, names[i][1], got)
		}
	}
}
