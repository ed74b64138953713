// Package rootless is the rootless mode of setns and netns: a user who is
// not root gets named network namespaces of their own, kept in
// $XDG_RUNTIME_DIR/netns, with no privileged helper anywhere.
//
// A per-user keeper process, started on first use, holds a user namespace
// (the user mapped to uid 0, one mapping, so no newuidmap is needed) and a
// mount namespace in which $XDG_RUNTIME_DIR/netns is bound onto
// /run/netns. Each command that runs rootless re-executes itself with
// SETNS_ROOTLESS set; join.c, a C constructor, joins the keeper's user
// and mount namespaces before the Go runtime starts threads (setns(2)
// refuses CLONE_NEWUSER to a threaded process), and from there the
// command runs its ordinary code, as root of that user namespace, on the
// user's own run directory. The host's /run/netns is never written.
//
// State lives in $XDG_RUNTIME_DIR/setns: "keeper" ("PID STARTTIME", the
// start time telling the keeper from a later process with its PID),
// "start.lock" (held while a command checks for or starts the keeper) and
// "use.lock" (shared by every command until it has its namespace, so
// that the keeper, which takes it exclusively before it exits, never
// leaves while a create is half done). The keeper exits once the run
// directory is empty and no command holds use.lock: after the last
// delete, or at once if the command that started it made nothing. If it
// is killed, its namespaces are gone with it, and the next command sweeps
// the names it left before it starts a new keeper.
package rootless

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/setns/setns/netns"
)

const (
	joinEnv   = "SETNS_ROOTLESS" // FD:DIR, for join.c and Joined
	keeperEnv = "SETNS_KEEPER"   // DIR, for the keeper and its launcher
	keeperArg = "setns-keeper"   // argv[0] of the keeper
	launchArg = "setns-keeper-launch"
)

// Active reports whether a command run by this process should work in
// rootless mode: it is not root in its user namespace. Inside the keeper's
// user namespace the user is uid 0, so a joined command runs as usual.
func Active() bool { return os.Geteuid() != 0 }

// RuntimeDir is $XDG_RUNTIME_DIR, or /run/user/UID when that is unset and
// exists; it must be an absolute directory owned by the user and
// writable by no one else.
func RuntimeDir() (string, error) {
	uid := os.Geteuid()
	dir := os.Getenv("XDG_RUNTIME_DIR")
	if dir == "" {
		dir = "/run/user/" + strconv.Itoa(uid)
		if _, err := os.Lstat(dir); err != nil {
			return "", errors.New("XDG_RUNTIME_DIR is not set and /run/user/" + strconv.Itoa(uid) + " does not exist (log in through a session manager, or set XDG_RUNTIME_DIR to a directory of your own)")
		}
	}
	if !filepath.IsAbs(dir) {
		return "", fmt.Errorf("XDG_RUNTIME_DIR %q is not an absolute path", dir)
	}
	if err := ownDir(dir, false); err != nil {
		return "", err
	}
	return filepath.Clean(dir), nil
}

// ownDir checks that dir is a directory (not a symlink) owned by the
// user and writable by no one else; create makes it (0700) if missing.
func ownDir(dir string, create bool) error {
	if create {
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	st, _ := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	case st == nil || int(st.Uid) != os.Geteuid():
		return fmt.Errorf("%s is not yours", dir)
	case fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("%s is writable by others", dir)
	}
	return nil
}

// keeper is the record in DIR/setns/keeper.
type keeper struct {
	pid   int
	start uint64
}

func readKeeper(dir string) (keeper, bool) {
	b, err := os.ReadFile(dir + "/setns/keeper")
	if err != nil {
		return keeper{}, false
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return keeper{}, false
	}
	pid, err1 := strconv.Atoi(f[0])
	start, err2 := strconv.ParseUint(f[1], 10, 64)
	if err1 != nil || err2 != nil || pid <= 0 {
		return keeper{}, false
	}
	return keeper{pid, start}, true
}

// alive reports whether k is still the process it was: same PID, same
// start time, same owner.
func (k keeper) alive() bool {
	fi, err := os.Stat("/proc/" + strconv.Itoa(k.pid))
	if err != nil {
		return false
	}
	st, _ := fi.Sys().(*syscall.Stat_t)
	s, ok := startTime(k.pid)
	return ok && s == k.start && st != nil && int(st.Uid) == os.Geteuid()
}

// startTime is field 22 of /proc/PID/stat.
func startTime(pid int) (uint64, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0, false
	}
	n, err := strconv.ParseUint(f[19], 10, 64)
	return n, err == nil
}

func lock(path string, how int) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, err
	}
	if err := flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Enter makes sure the user's keeper runs, starting it if need be, and
// re-executes the command (/proc/self/exe, same arguments) to join its
// namespaces. It returns only on failure.
func Enter() error {
	if !joinBuilt {
		return errors.New("this build has no C stage (built without cgo), which joining a user namespace needs")
	}
	dir, err := RuntimeDir()
	if err != nil {
		return err
	}
	for _, d := range []string{dir + "/setns", dir + "/netns"} {
		if err := ownDir(d, true); err != nil {
			return err
		}
	}
	use, err := lock(dir+"/setns/use.lock", lockShared)
	if err != nil {
		return err
	}
	defer use.Close()
	start, err := lock(dir+"/setns/start.lock", lockExclusive)
	if err != nil {
		return err
	}
	k, ok := readKeeper(dir)
	if !ok || !k.alive() {
		// With no keeper, no name in the run directory refers to a
		// namespace any more (the keeper's mount namespace held them
		// all): what is left are the files a killed keeper left.
		sweep(dir + "/netns")
		err = launch(dir)
	}
	start.Close()
	if err != nil {
		return err
	}
	// The re-executed command holds use.lock (shared) until it executes
	// its COMMAND or exits; Joined marks the descriptor close-on-exec.
	fd, err := dupInheritable(int(use.Fd()))
	if err != nil {
		return err
	}
	env := append(os.Environ(), joinEnv+"="+strconv.Itoa(fd)+":"+dir)
	err = syscall.Exec("/proc/self/exe", os.Args, env)
	return fmt.Errorf("re-exec to join your namespaces: %v", err)
}

// sweep removes the empty regular files in dir, the mount points of a
// keeper that is gone; anything else is left alone.
func sweep(dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() && fi.Size() == 0 {
			os.Remove(dir + "/" + e.Name())
		}
	}
}

// joinedDir is the runtime directory of the keeper this process joined.
var joinedDir string

// StateDir is where a command joined to a keeper keeps its own state
// (DIR/setns, the user's, for example the uplink journals in
// DIR/setns/uplink); "" in a command that joined none.
func StateDir() string {
	if joinedDir == "" || os.Geteuid() != 0 {
		return ""
	}
	return joinedDir + "/setns"
}

// Joined is called first thing in main. In a command that Enter
// re-executed, it checks that join.c joined the keeper's namespaces
// (nil: it did, or this is no such command) and takes SETNS_ROOTLESS out
// of the environment, so that no COMMAND inherits it. In the keeper and
// its launcher it does their work and exits.
func Joined() error {
	if os.Getenv(keeperEnv) != "" && len(os.Args) == 1 {
		switch os.Args[0] {
		case keeperArg:
			runKeeper(os.Getenv(keeperEnv))
		case launchArg:
			runLaunch(os.Getenv(keeperEnv))
		}
	}
	v, ok := os.LookupEnv(joinEnv)
	if !ok {
		return nil
	}
	os.Unsetenv(joinEnv)
	fdText, dir, _ := strings.Cut(v, ":")
	joinedDir = dir
	if fd, err := strconv.Atoi(fdText); err == nil && fd > 2 {
		closeOnExec(fd)
	}
	if os.Geteuid() != 0 {
		k, _ := readKeeper(dir)
		return fmt.Errorf("could not join the namespaces of your keeper (pid %d, %s/setns/keeper)", k.pid, dir)
	}
	return nil
}

// launch starts the keeper through a launcher process, which exits once
// the keeper is ready so that the keeper is nobody's child here (it is
// reparented to init, not left to the user's COMMAND to reap), and
// records it in DIR/setns/keeper.
func launch(dir string) error {
	var out, errs strings.Builder
	cmd := &exec.Cmd{Path: "/proc/self/exe", Args: []string{launchArg}, Dir: "/",
		Env: keeperEnviron(dir), Stdout: &out, Stderr: &errs}
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errs.String())
		if msg == "" {
			msg = err.Error()
		}
		return errors.New("start keeper: " + msg)
	}
	tmp := dir + "/setns/keeper.tmp"
	if err := os.WriteFile(tmp, []byte(out.String()), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, dir+"/setns/keeper")
}

// keeperEnviron is the keeper's whole environment: DIR, and the switches
// with which a test binary runs as setns or netns.
func keeperEnviron(dir string) []string {
	env := []string{keeperEnv + "=" + dir}
	for _, k := range []string{"SETNS_RUN_MAIN", "NETNS_RUN_MAIN"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// runLaunch starts the keeper in a new user and mount namespace, in a
// session of its own, with no descriptor but /dev/null and the pipe on
// which it says it is ready; it prints "PID STARTTIME" and exits.
func runLaunch(dir string) {
	r, w, err := os.Pipe()
	if err != nil {
		launchFailed(err)
	}
	cmd := &exec.Cmd{Path: "/proc/self/exe", Args: []string{keeperArg}, Dir: "/",
		Env: keeperEnviron(dir), ExtraFiles: []*os.File{w},
		SysProcAttr: &syscall.SysProcAttr{
			Setsid:                     true,
			Cloneflags:                 syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
			UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}},
			GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}},
			GidMappingsEnableSetgroups: false,
		}}
	if err := cmd.Start(); err != nil {
		if b := netns.UserNSBlocker("/proc/sys"); b != "" {
			launchFailed(errors.New(b))
		}
		launchFailed(fmt.Errorf("new user namespace: %v", err))
	}
	w.Close()
	msg, _ := io.ReadAll(r)
	if string(msg) != "ok" {
		cmd.Wait()
		launchFailed(errors.New(string(msg)))
	}
	start, ok := startTime(cmd.Process.Pid)
	if !ok {
		launchFailed(errors.New("keeper exited at once"))
	}
	fmt.Printf("%d %d\n", cmd.Process.Pid, start)
	os.Exit(0)
}

func launchFailed(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
