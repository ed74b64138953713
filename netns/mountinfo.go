package netns

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
)

// mountEntry is one line of /proc/PID/mountinfo (proc(5)), the fields we use.
type mountEntry struct {
	id, parent int
	root       string // for an nsfs mount: "net:[INODE]"
	point      string
}

// mountsBelow returns the mount points directly below the top mount at dir,
// in mount order: from the kernel's listmount(2) where it has it, else
// from the calling thread's mountinfo.
func mountsBelow(dir string) ([]string, error) {
	if points, err := listSubmounts(dir); err == nil {
		return points, nil
	}
	mounts, err := readMountinfo()
	if err != nil {
		return nil, err
	}
	return submounts(mounts, dir), nil
}

// readMountinfo parses the calling thread's mount table.
func readMountinfo() ([]mountEntry, error) {
	data, err := os.ReadFile("/proc/thread-self/mountinfo")
	if err != nil {
		return nil, err
	}
	return parseMountinfo(data), nil
}

func parseMountinfo(data []byte) []mountEntry {
	var out []mountEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 {
			continue
		}
		id, err1 := strconv.Atoi(f[0])
		parent, err2 := strconv.Atoi(f[1])
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, mountEntry{id: id, parent: parent, root: unescapeOctal(f[3]), point: unescapeOctal(f[4])})
	}
	return out
}

// unescapeOctal undoes the \NNN escapes the kernel writes for space, tab,
// newline and backslash in mountinfo paths.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// submounts returns the mount points directly below the top mount at dir,
// in mount order.
func submounts(mounts []mountEntry, dir string) []string {
	top := -1
	for _, m := range mounts {
		if m.point == dir {
			top = m.id // the last one listed is on top
		}
	}
	if top < 0 {
		return nil
	}
	var out []string
	for _, m := range mounts {
		if m.parent == top && strings.HasPrefix(m.point, dir+"/") {
			out = append(out, m.point)
		}
	}
	return out
}
