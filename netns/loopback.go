package netns

import (
	"github.com/jsimonetti/rtnetlink/v2"
)

// loopbackIndex is lo's interface index: the kernel registers loopback
// first in every network namespace (LOOPBACK_IFINDEX).
const loopbackIndex = 1

// loopbackUp sets lo up in the calling thread's network namespace, like
// "ip link set lo up", over rtnetlink. The socket is created by the calling
// thread, so it belongs to that thread's namespace.
func loopbackUp() error {
	c, err := rtnetlink.Dial(nil)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Link.Set(&rtnetlink.LinkMessage{Index: loopbackIndex, Flags: iffUp, Change: iffUp})
}
