// Package pty runs a command on a pseudo-terminal of its own and relays
// it to the caller's terminal, as sudo's use_pty and "su --pty" do. A
// command that runs as another user must not get root's terminal: with
// it, it could push keystrokes into root's input with TIOCSTI (still
// allowed on many kernels, sysctl dev.tty.legacy_tiocsti), which root's
// shell runs once the command is gone, or read and change the terminal
// after it exits. On a new pty, in a new session, the command's terminal
// is the pty, and only bytes pass between the two.
package pty

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"syscall"
	"time"
)

// Forwarded are the signals a command's parent that stays for it (setns
// --temp, a relayed terminal) passes on to it rather than die of, leaving
// the terminal raw or a namespace behind: those a user or a supervisor
// sends to stop or poke a program (as sudo forwards them).
var Forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGALRM}

// Open returns a new pseudo-terminal: the master, and the slave, which
// becomes a terminal's stdin, stdout and stderr. Both are close-on-exec.
func Open() (master, slave *os.File, err error) {
	m, s, err := openPair()
	if err != nil {
		return nil, nil, err
	}
	return os.NewFile(uintptr(m), "/dev/ptmx"), os.NewFile(uintptr(s), "pty"), nil
}

// IsTerminal reports whether f is a terminal.
func IsTerminal(f *os.File) bool { return f != nil && isTerminal(int(f.Fd())) }

// Queued returns how much input terminal f holds unread (in canonical
// mode, whole lines only).
func Queued(f *os.File) (int, error) { return queued(int(f.Fd())) }

// drainTime bounds how long output is still relayed once the command has
// exited, when something it started keeps the pty open.
const drainTime = 200 * time.Millisecond

// Needed reports whether a command run as another user with these
// standard files must be started through Run: one of them is a terminal,
// or this process has a controlling terminal, which the command would
// otherwise share and could open as /dev/tty, even with every standard
// file redirected.
func Needed(files ...*os.File) bool {
	return slices.ContainsFunc(files, IsTerminal) || HasControllingTerminal()
}

// HasControllingTerminal reports whether this process has a controlling
// terminal: whether /dev/tty opens.
func HasControllingTerminal() bool {
	f, err := os.OpenFile("/dev/tty", os.O_RDWR|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// Run starts cmd with start on a new pty and relays it until cmd exits.
// Each of cmd's Stdin, Stdout and Stderr that is a terminal (an *os.File)
// is replaced by the pty; the others, such as pipes, are left alone. The
// command is made a session leader with the pty as its controlling
// terminal, so that Ctrl-C, Ctrl-Z and job control work inside it. The
// pty gets the terminal's settings and size and belongs to uid; the
// terminal is put in raw mode while cmd runs (when stdin is one) and
// restored on every return. As the leader of a session whose parent is in
// another, cmd is in an orphaned process group, which the kernel does not
// stop for SIGTSTP: Ctrl-Z suspends the jobs of a shell, not cmd itself.
// When none of the three is a terminal, no pty is made, but cmd still
// starts in a new session, without a controlling terminal, so that it
// cannot open the caller's as /dev/tty. Every signal received on sigs is
// passed to cmd, and SIGWINCH resizes the pty. Run returns what cmd.Wait
// returns.
func Run(cmd *exec.Cmd, start func(*exec.Cmd) error, uid int, sigs <-chan os.Signal) error {
	in, _ := cmd.Stdin.(*os.File)
	out, _ := cmd.Stdout.(*os.File)
	errf, _ := cmd.Stderr.(*os.File)
	ttyIn, ttyOut, ttyErr := IsTerminal(in), IsTerminal(out), IsTerminal(errf)
	var term *os.File // the caller's terminal: where output goes
	switch {
	case ttyOut:
		term = out
	case ttyErr:
		term = errf
	case ttyIn:
		term = in
	default:
		// No pty to relay, but a session of its own all the same: it
		// leaves cmd without a controlling terminal, so it cannot open
		// the caller's as /dev/tty (and type into it with TIOCSTI).
		if cmd.SysProcAttr == nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{}
		}
		cmd.SysProcAttr.Setsid = true
		if err := start(cmd); err != nil {
			return err
		}
		stop := forward(cmd, sigs, nil, nil)
		defer stop()
		return cmd.Wait()
	}
	m, s, err := openPair()
	if err != nil {
		return err
	}
	// m stays a number for the ioctls: master.Fd() would make it blocking,
	// taking it off Go's poller and its read deadlines.
	master, slave := os.NewFile(uintptr(m), "/dev/ptmx"), os.NewFile(uintptr(s), "pty")
	defer master.Close()
	defer slave.Close()
	if t, err := getTermios(int(term.Fd())); err == nil {
		setTermios(int(slave.Fd()), t)
	}
	copyWinsize(int(term.Fd()), m)
	if err := slave.Chown(uid, -1); err != nil {
		return err
	}
	ctty := -1
	for i, tty := range []bool{ttyIn, ttyOut, ttyErr} {
		if tty && ctty < 0 {
			ctty = i
		}
	}
	if ttyIn {
		cmd.Stdin = slave
	}
	if ttyOut {
		cmd.Stdout = slave
	}
	if ttyErr {
		cmd.Stderr = slave
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setsid, cmd.SysProcAttr.Setctty, cmd.SysProcAttr.Ctty = true, true, ctty

	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	defer signal.Stop(winch)
	if ttyIn {
		saved, err := getTermios(int(in.Fd()))
		if err != nil {
			return err
		}
		if err := setTermios(int(in.Fd()), saved.raw()); err != nil {
			return err
		}
		defer setTermios(int(in.Fd()), saved)
	}
	if err := start(cmd); err != nil {
		return err
	}
	slave.Close() // the command's copies are its own; EIO on master once they go

	output := make(chan struct{})
	go func() {
		defer close(output)
		relay(term, master)
	}()
	stopInput := func() {}
	if ttyIn {
		stopInput = relayInput(in, master)
	}
	stopForward := forward(cmd, sigs, winch, func() { copyWinsize(int(term.Fd()), m) })
	werr := cmd.Wait()
	stopForward()
	master.SetReadDeadline(time.Now().Add(drainTime))
	<-output
	stopInput()
	return werr
}

// Forward passes each signal received on sigs to cmd, a started command,
// until the returned stop is called: for a parent that stays for its
// child without a terminal to relay.
func Forward(cmd *exec.Cmd, sigs <-chan os.Signal) (stop func()) { return forward(cmd, sigs, nil, nil) }

// forward passes each signal received on sigs to cmd, and calls resize
// for each one on winch (nil: none), until the returned stop is called.
func forward(cmd *exec.Cmd, sigs <-chan os.Signal, winch <-chan os.Signal, resize func()) (stop func()) {
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				cmd.Process.Signal(s)
			case <-winch:
				resize()
			case <-done:
				return
			}
		}
	}()
	return func() { close(done) }
}

// relay copies the pty's output to the terminal until the pty is closed
// (EIO once no process holds the slave) or the drain deadline passes.
// Once the terminal fails (hung up, or a read-only stdin) the output is
// still read, and dropped, so that the command never blocks on a full pty.
func relay(term io.Writer, master *os.File) {
	buf := make([]byte, 32*1024)
	for {
		n, err := master.Read(buf)
		if n > 0 && term != nil {
			if _, werr := term.Write(buf[:n]); werr != nil {
				term = nil
			}
		}
		if err != nil && !errors.Is(err, syscall.EINTR) {
			return
		}
	}
}

// relayInput copies what is typed on in to the pty until the returned
// stop is called. It reads only when poll(2) says input is there, so that
// once stopped no keystroke is taken from the terminal, and in is never
// made non-blocking (its file description is shared with the shell).
func relayInput(in *os.File, master *os.File) (stop func()) {
	wr, ww, err := os.Pipe()
	if err != nil {
		return func() {}
	}
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		buf := make([]byte, 4096)
		for {
			woken, err := waitReadable(int(in.Fd()), int(wr.Fd()))
			if woken || err != nil {
				return
			}
			n, err := in.Read(buf)
			if n > 0 {
				if _, err := master.Write(buf[:n]); err != nil {
					return
				}
			}
			if err != nil || n == 0 {
				return
			}
		}
	}()
	return func() {
		// A write to the pty blocks while its input is full, which a
		// process that keeps the pty open without reading makes last
		// forever: the deadline ends it.
		master.SetWriteDeadline(time.Now())
		ww.Write([]byte{0})
		<-finished
		wr.Close()
		ww.Close()
	}
}
