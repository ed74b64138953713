// Package lab builds network topologies of named namespaces from one
// declarative file, the library under "netns lab".
//
// A lab file (YAML; JSON is YAML too) names a lab and declares nodes,
// links between them, bridges, addresses, routes and sysctls:
//
//	lab: demo                 # node namespaces are named demo-NODE
//	nodes:
//	  r1:
//	    sysctls: {net.ipv4.ip_forward: "1"}
//	  h1:
//	    routes: ["default via 10.0.1.1"]
//	  h2:
//	    routes: ["default via 10.0.2.1"]
//	  sw:
//	    kind: bridge          # holds bridge br0; its link ends are its ports
//	links:
//	  - endpoints: [r1:eth0, h1:eth0]
//	    addresses: [10.0.1.1/24, 10.0.1.2/24]   # one per endpoint
//	  - endpoints: [r1:eth1, h2:eth0]
//	    addresses: [10.0.2.1/24, 10.0.2.2/24]
//
// Parse checks all of it, with no system call but reading the user
// database for "owner:" (see Delegated nodes): an error names the file,
// the line and the problem (*ParseError). MakePlan then reads the kernel
// and diffs: the Plan lists every kernel object to create, change or
// delete (nothing, for a lab that matches its file); Execute carries it
// out; Apply is both. GetStatus reports nodes, links and drift, Destroy
// removes a lab, Graph draws one (Graphviz DOT or Mermaid). Every call
// that touches the kernel takes a context.Context and stops between steps
// when it is done; applying again converges.
//
// # Ownership
//
// What a lab owns is marked in the kernel, so it is recognised without
// any state file: lo's ifalias in each node's namespace is
// "setns:lab=LAB node=NODE", each link end's ifalias "setns:lab=LAB
// peer=NODE:IF" and its device group Group(LAB), br0's ifalias
// "setns:lab=LAB bridge", and addresses (IFA_PROTO) and routes
// (rtm_protocol) carry Proto. Apply changes and deletes only marked
// objects; an object the file needs whose name something else holds (a
// namespace made by "ip netns add", an interface made by hand) is an
// error before anything is written. Destroy deletes only namespaces whose
// lo carries the lab's marker. A journal in StateDir records the file
// last applied (for status and graph by name) and the namespaces an apply
// is creating, so that one killed before it could mark them is finished
// by the next apply, or cleaned by Destroy.
//
// # Delegated nodes
//
// "owner: USER[:GROUP]" at the top of a file delegates every node to
// USER, a node's own "owner:" overriding it (Node.Owner, resolved by
// Parse from the user database; root and group 0 are refused). Such a
// node is made by netns.CreateOwned, one at a time after the others: its
// network namespace is owned by a user namespace that USER owns, bound
// at netns.UserNSDir/NAME, so USER can enter and configure it without
// privilege ("setns LAB-NODE CMD"). MakePlan compares an existing node's
// owner (by uid) with the file's: a difference is a step of kind "owner"
// that GetStatus reports as drift and Execute refuses, writing nothing,
// since a new owner needs a new namespace and the node's links,
// addresses and whatever its owner runs in it would go; delete the node
// and apply again. Destroy removes a deleted node's user namespace too,
// when it is the one that owns that node's network namespace.
//
// # Speed
//
// A 1000-node lab applies in about a second on two CPUs: namespaces are
// made in parallel (netns.Reserve in file order, then Reservation.Create
// on GOMAXPROCS threads); every link goes through one rtnetlink socket,
// pipelined (link.Batch: link creation holds the kernel's RTNL lock, so
// one writer is as fast as several), each pair created by one
// RTM_NEWLINK with both ends born in their namespaces (IFLA_NET_NS_FD on
// the device and on the peer) and stable MACs; each node is then configured through a socket opened in
// its namespace (mdlayher/netlink's Config.NetNS: the caller's thread is
// never moved). Sysctls are read over netlink (RTM_GETNETCONF) where the
// kernel reports them: their /proc/sys files get slower with every
// namespace on the machine. Destroy deletes namespaces, not links: the
// kernel then removes their devices in one batch, where deleting veths
// one by one waits an RCU grace period each.
//
// Everything needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN); a delegated
// node's owner needs nothing to use it.
package lab
