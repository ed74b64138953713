package netnstest_test

import "net"

func portOf(hostport string) string {
	_, p, _ := net.SplitHostPort(hostport)
	return p
}
