package link

import (
	"context"
	"fmt"
	"strings"

	"github.com/setns/setns/netns"
)

// Delete removes the veth IF in ns (nil: the process's namespace), like
// "ip link del IF" there; its peer goes with it, wherever it is. The name
// is checked before any system call. Only a link setns made is deleted,
// one whose ifalias starts with Marker: anything else gives an error
// wrapping ErrNotOwned, a missing one an error wrapping fs.ErrNotExist.
// Errors are *Error. The calling thread is never moved. Needs
// CAP_NET_ADMIN and CAP_SYS_ADMIN.
func Delete(ctx context.Context, ns *netns.NS, ifname string) error {
	end := End{NS: ns, Name: ifname}
	if err := ValidName(ifname); err != nil {
		return &Error{Op: "del", Endpoint: end.String(), Err: err}
	}
	if ns == nil {
		pns, err := processNS()
		if err != nil {
			return &Error{Op: "del", Endpoint: end.String(), Err: err}
		}
		defer pns.Close()
		ns = pns
	}
	c, err := dial(ctx, ns)
	if err != nil {
		return &Error{Op: "del", Endpoint: end.String(), Err: err}
	}
	defer c.Close()
	d, err := getByName(ctx, c, ifname)
	if err == nil {
		err = owned(d)
	}
	if err == nil {
		err = deleteByIndex(ctx, c, d.index)
	}
	if err != nil {
		return &Error{Op: "del", Endpoint: end.String(), Err: err}
	}
	return nil
}

// owned checks that d is a veth carrying the setns marker.
func owned(d device) error {
	switch {
	case d.kind != "veth":
		kind := d.kind
		if kind == "" {
			kind = "no kind"
		}
		return fmt.Errorf("%w: not a veth (%s)", ErrNotOwned, kind)
	case !strings.HasPrefix(d.alias, Marker):
		return fmt.Errorf("%w: ifalias %q lacks %q; use \"ip link del\"", ErrNotOwned, d.alias, Marker)
	}
	return nil
}
