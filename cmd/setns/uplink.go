package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"

	"github.com/setns/setns/internal/rootless"
	"github.com/setns/setns/netns"
	"github.com/setns/setns/uplink"
)

// uplinkFlag is --uplink[=MODE]: alone it is NAT mode (pasta in rootless
// mode); nat tells whether NAT was named.
type uplinkFlag struct {
	mode *uplink.Mode
	nat  *bool
}

func (f uplinkFlag) String() string   { return "" }
func (f uplinkFlag) IsBoolFlag() bool { return true }
func (f uplinkFlag) Set(v string) error {
	alone := v == "true"
	if alone {
		v = string(uplink.NAT)
	}
	m, err := uplink.ParseMode(v)
	if err != nil {
		return err
	}
	*f.mode = m
	*f.nat = m == uplink.NAT && !alone
	return nil
}

// checkUplink refuses --uplink and --publish where they cannot apply.
func (o *options) checkUplink() error {
	switch {
	case len(o.publish) > 0 && o.uplink == "":
		return &usageError{"--publish needs --uplink"}
	case o.uplink != "" && (o.path != "" || o.pid != 0):
		return &usageError{"--uplink connects a named namespace: it excludes --path and --pid"}
	}
	return nil
}

// connectUplink connects ns for the command's lifetime (--uplink), with
// a table the kernel removes if setns dies, and returns env with
// NETNS_IP and NETNS_HOST_IP and the function that disconnects. Without
// --uplink it changes nothing.
func connectUplink(o *options, ns *netns.NS, env []string) ([]string, func(stderr io.Writer), error) {
	if o.uplink == "" {
		return env, func(io.Writer) {}, nil
	}
	uo := &uplink.Options{Mode: o.uplink, Publish: o.publish, Temporary: true}
	if dir := rootless.StateDir(); dir != "" {
		// Rootless (run refused --uplink=nat before joining): pasta,
		// with the user's own journals.
		uo.Mode, uo.StateDir = uplink.Pasta, dir+"/uplink"
	}
	u, err := uplink.Connect(context.Background(), ns, uo)
	if err != nil {
		return env, nil, err
	}
	env = setEnv(env, "NETNS_IP", u.NSAddr.Addr().String())
	env = setEnv(env, "NETNS_HOST_IP", u.HostAddr.Addr().String())
	return env, func(stderr io.Writer) {
		if err := u.Close(); err != nil {
			fmt.Fprintf(stderr, "setns: %v\n", err)
		}
	}, nil
}

// runUplinked runs COMMAND as a child of setns, connected while it runs
// (--uplink without --temp): setns stays to disconnect afterwards. When
// COMMAND never started it prints nothing and returns the error (after
// disconnecting), so the caller can undo a create before reporting it.
func runUplinked(o *options, ns *netns.NS, prog string, env []string, execOpts *netns.ExecOptions,
	stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)
	defer ns.Close()
	env, disconnect, err := connectUplink(o, ns, env)
	if err != nil {
		return 0, err
	}
	defer disconnect(stderr)
	cmd := &exec.Cmd{Path: prog, Args: o.argv, Env: withName(env, o.name),
		Stdin: stdin, Stdout: stdout, Stderr: stderr}
	return runChild(ns, cmd, execOpts, sigs, stderr)
}

// setEnv sets KEY=value in env, replacing any KEY already there.
func setEnv(env []string, key, value string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return append(out, key+"="+value)
}
