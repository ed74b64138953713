package netnstest_test

import (
	"io"
	"testing"

	"github.com/setns/setns/netnstest"
)

func TestSmoke(t *testing.T) {
	a, b := netnstest.New(t), netnstest.New(t)
	ea, eb := netnstest.Connect(t, a, b)
	t.Log(a.Name(), ea, eb, ea.Addr4, eb.Addr4, ea.Addr6, eb.Addr6)
	ln := netnstest.Listen(t, a, "tcp", "0.0.0.0:0")
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Write([]byte("hello"))
			c.Close()
		}
	}()
	c := netnstest.Dial(t, b, "tcp", ea.Addr4.Addr().String()+":"+portOf(ln.Addr().String()))
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "hello" {
		t.Fatal(string(got), err)
	}
	out, err := netnstest.Command(t, a, "ip", "-br", "addr").CombinedOutput()
	t.Logf("%s %v", out, err)
	out, err = netnstest.Command(t, a, "ip", "netns", "list").CombinedOutput()
	t.Logf("%s %v", out, err)
}
