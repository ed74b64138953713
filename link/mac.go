package link

import (
	"crypto/sha256"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/setns/setns/netns"
)

// StableMAC derives a MAC address from parts: the first six bytes of the
// SHA-256 of the parts (each followed by a NUL), with the first octet made
// locally administered (bit 1 set) and unicast (bit 0 clear). The same
// parts always give the same address; 46 bits of hash make a collision
// between two thousand interfaces about a 3·10⁻⁸ chance.
func StableMAC(parts ...string) net.HardwareAddr {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	sum := h.Sum(nil)
	mac := net.HardwareAddr(sum[:6])
	mac[0] = mac[0]&^0x01 | 0x02
	return mac
}

// machineID is /etc/machine-id, or "" without one: it keeps the MACs of
// identically named links on two machines apart (labs bridged between
// hosts). Read once; it does not change while the system runs.
var machineID = sync.OnceValue(func() string {
	b, err := os.ReadFile("/etc/machine-id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
})

// defaultMAC is the MAC AddVeth gives the end ifname in ns:
// StableMAC(machine id, namespace key, ifname).
func defaultMAC(ns *netns.NS, ifname string) net.HardwareAddr {
	return StableMAC(machineID(), nsKey(ns), ifname)
}

// nsKey names ns for MACs: its name when it has one, otherwise its inode
// ("ino:4026531840"), which is stable for the namespace's lifetime.
func nsKey(ns *netns.NS) string {
	if ns.Name() != "" {
		return ns.Name()
	}
	return "ino:" + strconv.FormatUint(ns.Inode(), 10)
}
