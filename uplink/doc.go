// Package uplink connects a named network namespace to the namespace the
// caller runs in (the host) and through it to whatever the host reaches:
// the library under "netns connect", "netns disconnect", "netns
// connections" and "setns --uplink".
//
// # NAT mode
//
// Connect makes a veth pair with link.AddVeth, both ends created in place:
// the host end, named HostIfName(NAME) ("sn" and ten base32 characters of
// a hash of NAME, so always 15 bytes or fewer whatever NAME's length), and
// NSIf inside the namespace. The pair gets a /30 from Options.Pool
// (DefaultPool unless told otherwise) that overlaps no route of the host
// and no other connection; the namespace gets its address, lo up and a
// default route via the host end. Forwarding is switched on per
// interface, on the host end and on the interfaces of the host's default
// routes, never globally (net.ipv4.ip_forward is left alone). Masquerading
// and the forward rules live in one nftables table of the connection's own,
// "inet setns-ID", created through github.com/google/nftables with the
// owner flag: for a temporary connection (Options.Temporary, setns
// --uplink) owner alone, so that the kernel deletes the table when the
// process holding it dies, even by SIGKILL; for a lasting one owner and
// persist, so that it outlives "netns connect" itself.
//
// # The host's firewall
//
// An accept in our table does not override a drop in another table. So
// Connect looks at every base chain on the forward hook of the host, for
// a drop policy or a rule that drops or rejects everything: iptables' own
// FORWARD chain (as Docker and ufw leave it), whether iptables-nft's
// (table ip filter) or iptables-legacy's (asked with iptables-legacy, never
// guessed from which one is readable), gets narrow accepts for the host
// end, in DOCKER-USER when that chain exists and at the top of FORWARD
// otherwise, tagged with the comment "setns:ID"; any other table whose
// forward chain drops (firewalld's, the user's own) makes Connect refuse,
// naming the table and chain, and suggest Pasta mode.
//
// # The journal
//
// Every host-side change is written to a journal, StateDir/HOSTIF.json,
// before it is made: the veth, each sysctl with the value found, each
// iptables rule, the nftables table. Disconnect undoes exactly what the
// journal lists, in reverse order (the veth and the table last, at the
// same time, as each waits for an RCU grace period in the kernel), and so
// does Leftover.Fix (netns doctor)
// for connections whose namespace is gone, whose temporary owner died, or
// whose connect died half-way (the journal is marked done only at the
// end). A failure half-way through Connect undoes what was done, and so
// does the next Connect of the same name after a crash. Sysctls are
// reference-counted across connections: the value found is restored when
// the last connection that needed it goes. Disconnect also deletes the
// host's conntrack entries for the connection's addresses (one dump and
// one delete per entry over ctnetlink, written by hand: two message shapes;
// no dump when the host namespace's nf_conntrack_count is 0), so that a
// later connection reusing the subnet does not inherit stale NAT state.
//
// # Pasta mode
//
// Mode Pasta runs pasta(1) (Debian package passt) for the namespace: a
// user-space network stack whose traffic leaves through ordinary sockets
// of the host, so no host firewall rule, sysctl or table is touched. Its
// process id is journalled, and Disconnect stops it.
//
// # Testing
//
// Every host-side effect happens in Options.Host, so tests pass a fresh
// namespace that plays the host (with another playing the internet) and
// never touch the machine's own network.
package uplink
