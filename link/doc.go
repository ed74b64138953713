// Package link wires network namespaces together with veth pairs, the
// library under "netns link" (and the lab and uplink code that build on it).
//
// AddVeth makes a pair whose two ends are created directly in their
// namespaces: one RTM_NEWLINK carries IFLA_NET_NS_FD for the first end and
// another inside IFLA_INFO_DATA/VETH_INFO_PEER for the peer, as
//
//	ip link add name IF1 netns NS1 type veth peer name IF2 netns NS2
//
// does, so no device ever appears in the caller's namespace, is renamed or
// is moved. The first end comes up in that same message; then each end
// gets its ownership marker (and the peer is brought up: the kernel cannot
// open a veth before its partner exists), lo is brought up in both
// namespaces, and the addresses asked for are added.
//
// Every netlink socket is opened inside its namespace from the namespace's
// descriptor (mdlayher/netlink's Config.NetNS, which opens the socket on a
// locked thread it restores or discards): the caller's thread is never
// moved. Messages are jsimonetti/rtnetlink/v2's typed structures, with the
// few attributes it lacks (device group, IFA_PROTO, IFLA_LINK_NETNSID)
// encoded and decoded with mdlayher/netlink's attribute coder.
//
// # Ownership
//
// A link made here carries a marker in the kernel, so that later code can
// tell its own links from anyone else's without a state file: the ifalias
// of both ends starts with Marker ("setns:link" by default, see
// Options.Alias), and addresses it adds carry IFA_PROTO ProtoSetns. The
// kernel ignores an ifalias in the message that creates a device, so it is
// set right after; Options.Group, which the kernel does take at creation,
// marks a pair from its first moment (and lets many be deleted at once).
// Delete refuses a link without the marker, and List shows only marked
// links unless asked for all veths.
//
// # Names and MACs
//
// Interface names follow the kernel's rule (ValidName), checked before any
// system call. Unless an End gives its own, each end's MAC is StableMAC of
// the machine id, the namespace's name and the interface name: locally
// administered and unicast, the same every time the link is made again, so
// its IPv6 link-local address (EUI-64) is stable too.
//
// # Many links
//
// Batch makes many pairs through one socket, pipelined (the kernel
// creates links one at a time under its RTNL lock, so one writer is as
// fast as any number): each pair is made in place as AddVeth makes it,
// with its names, MACs, MTU and group, and left down without an ifalias,
// for the caller to configure per namespace (package lab does).
//
// All operations need CAP_NET_ADMIN in the namespaces involved, and
// CAP_SYS_ADMIN to open sockets in them.
package link
