package lab

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"runtime"
	"strings"
	"sync"

	"github.com/setns/setns/netns"
)

// nodeState is what the kernel holds for one namespace a lab may own.
type nodeState struct {
	name    string // namespace name
	ns      *netns.NS
	marker  string // lo's ifalias
	devs    []device
	byName  map[string]*device
	addrs   []address
	routes  []kroute
	sysctls map[string]string // values read, for the node's keys
	// placeholder: the name exists but is not a namespace (a create
	// killed half-way, if the journal lists it).
	placeholder bool
}

func (s *nodeState) close() {
	if s != nil && s.ns != nil {
		s.ns.Close()
	}
}

// observe opens namespace name and reads its devices, the lab's
// addresses and routes and the sysctls keys. A missing name gives nil.
func observe(ctx context.Context, name string, keys []string) (*nodeState, error) {
	ns, err := netns.Open(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case errors.Is(err, netns.ErrNotNamespace):
		return &nodeState{name: name, placeholder: true}, nil
	case err != nil:
		return nil, err
	}
	st := &nodeState{name: name, ns: ns}
	if err := st.read(ctx, keys); err != nil {
		ns.Close()
		return nil, fmt.Errorf("read namespace %q: %w", name, err)
	}
	return st, nil
}

func (st *nodeState) read(ctx context.Context, keys []string) error {
	s, err := dial(ctx, st.ns)
	if err != nil {
		return err
	}
	defer s.Close()
	if st.devs, err = s.links(); err != nil {
		return err
	}
	st.byName = make(map[string]*device, len(st.devs))
	for i := range st.devs {
		d := &st.devs[i]
		st.byName[d.name] = d
		if d.index == loopbackIndex {
			st.marker = d.alias
		}
	}
	if _, _, ok := labOf(st.marker); !ok {
		return nil // not a lab's: nothing more to read
	}
	if st.addrs, err = s.addresses(); err != nil {
		return err
	}
	if st.routes, err = s.routes(); err != nil {
		return err
	}
	if len(keys) > 0 {
		st.sysctls = make(map[string]string, len(keys))
		index := make(map[string]int32, len(st.devs))
		for _, d := range st.devs {
			index[d.name] = d.index
		}
		if keys, err = s.readNetconf(keys, index, st.sysctls); err != nil || len(keys) == 0 {
			return err
		}
		err = st.ns.Do(func() error {
			for _, k := range keys {
				b, err := os.ReadFile(sysctlFile(k))
				if err == nil {
					st.sysctls[k] = normalize(string(b))
				}
			}
			return nil
		})
	}
	return err
}

func sysctlFile(key string) string { return "/proc/sys/" + strings.ReplaceAll(key, ".", "/") }

// normalize makes sysctl values comparable: "0 2147483647" is read back
// as "0\t2147483647\n".
func normalize(v string) string { return strings.Join(strings.Fields(v), " ") }

// ifaceKey matches the per-interface sysctls: net.ipv4.conf.IF.KEY,
// net.ipv6.neigh.IF.KEY, ...
var ifaceKey = regexp.MustCompile(`^net\.ipv[46]\.(?:conf|neigh)\.([^.]+)\.`)

// keyIface returns the interface a sysctl key is about, if it is one of
// the node's own (a link end or br0), whose key can only be written once
// the device exists.
func keyIface(key string, ifs map[string]bool) string {
	m := ifaceKey.FindStringSubmatch(key)
	if m == nil || !ifs[m[1]] {
		return ""
	}
	return m[1]
}

// parallel runs f(i) for i in [0, n) on GOMAXPROCS goroutines and
// returns the first error; it stops handing out work once one fails or
// ctx is done.
func parallel(ctx context.Context, n int, f func(i int) error) error {
	return parallelN(ctx, runtime.GOMAXPROCS(0), n, f)
}

// readers is how many goroutines read namespaces at once: twice the
// CPUs, as much of a read is spent waiting for the kernel's replies.
func readers() int { return 2 * runtime.GOMAXPROCS(0) }

// parallelN is parallel on workers goroutines.
func parallelN(ctx context.Context, workers, n int, f func(i int) error) error {
	if workers > n {
		workers = n
	}
	var (
		mu    sync.Mutex
		next  int
		first error
		wg    sync.WaitGroup
	)
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if first != nil || next >= n {
			return 0, false
		}
		if err := ctx.Err(); err != nil {
			first = err
			return 0, false
		}
		next++
		return next - 1, true
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i, ok := take()
				if !ok {
					return
				}
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}
