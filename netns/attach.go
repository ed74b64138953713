package netns

// Attach gives the network namespace of process pid the name NAME, like
// "ip netns attach NAME PID", and returns an open handle to it. The name
// is claimed as Create claims it (RunDir made a shared mount point, the
// file reserved with O_CREAT|O_EXCL, everything undone on failure), then
// the namespace is bind-mounted onto it. It fails with an error wrapping
// fs.ErrExist if the name is taken, and fs.ErrNotExist if there is no
// such process. The same namespace may have several names.
//
// The process's namespace is opened before the name is reserved, and the
// mount is made from that open handle, so a process that exits meanwhile
// (or a PID reused by another process) cannot attach the wrong
// namespace. The calling thread is not touched. Needs CAP_SYS_ADMIN and
// ptrace access to the process.
func Attach(name string, pid int) (*NS, error) {
	target, err := OpenPID(pid)
	if err != nil {
		return nil, newError("attach", name, err)
	}
	defer target.Close()
	r, err := reserveName("attach", name)
	if err != nil {
		return nil, err
	}
	return r.fill(func(file int) (*NS, error) {
		var ns *NS
		err := target.use("attach", func(nsfd int) error {
			if err := bindOnto(fdPath(nsfd), file); err != nil {
				return err
			}
			var err error
			ns, err = openMade("attach", name, r.path, nsfd)
			return err
		})
		return ns, err
	})
}
