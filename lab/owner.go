package lab

import (
	"hash/fnv"
	"net"
	"os"
	"strings"
	"sync"

	"github.com/setns/setns/link"
)

// The markers by which a lab knows its own objects from the kernel alone,
// without a state file:
//
//   - a node's namespace: lo's ifalias is "setns:lab=LAB node=NODE";
//   - a link end: ifalias "setns:lab=LAB peer=NODE:IF" (naming the other
//     end) and device group Group(LAB), which the kernel takes in the
//     message that creates the pair (the ifalias only right after);
//   - a bridge: ifalias "setns:lab=LAB bridge" and the same group;
//   - addresses: IFA_PROTO Proto; routes: rtm_protocol Proto.
//
// Nothing without its marker is ever changed or deleted.

func nodeMarker(lab, node string) string { return link.Marker + "lab=" + lab + " node=" + node }

func linkAlias(lab string, peer Endpoint) string { return peerPrefix(lab) + peer.String() }

func peerPrefix(lab string) string { return link.Marker + "lab=" + lab + " peer=" }

func bridgeAlias(lab string) string { return link.Marker + "lab=" + lab + " bridge" }

// labOf returns the lab and node a lo ifalias names, or ok false when
// it is not a lab marker.
func labOf(alias string) (lab, node string, ok bool) {
	rest, ok := strings.CutPrefix(alias, link.Marker+"lab=")
	if !ok {
		return "", "", false
	}
	lab, node, ok = strings.Cut(rest, " node=")
	if !ok || lab == "" || node == "" || strings.ContainsAny(node, " ") {
		return "", "", false
	}
	return lab, node, true
}

// ownedAlias reports whether an ifalias marks a device of lab.
func ownedAlias(lab, alias string) bool {
	return strings.HasPrefix(alias, link.Marker+"lab="+lab+" ")
}

// Group is the device group of a lab's links and bridges: a hash of its
// name, never 0 (the default group), so "ip link del group N" in a node
// removes exactly the lab's devices.
func Group(lab string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(lab))
	return h.Sum32()%0x7fff0000 + 0x10000
}

// machineID keeps the MACs of identical labs on two machines apart; it is
// the one package link uses, so a lab's link end gets the MAC "netns link
// add" would give the same NS:IF.
var machineID = sync.OnceValue(func() string {
	b, err := os.ReadFile("/etc/machine-id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
})

// mac is the stable MAC of interface ifname in namespace ns.
func mac(ns, ifname string) net.HardwareAddr { return link.StableMAC(machineID(), ns, ifname) }
