package lab

import (
	"fmt"
	"net/netip"
	"strings"
)

// Chain returns the lab file of n nodes in a chain, named lab: node nI
// is linked to node nI+1 (nI:e1 to nI+1:e0), each link a /31 out of
// 10.0.0.0/8 in order, and every node has one route, a default route
// towards n1 (n1's towards n2); n ≥ 2. Tests and benchmarks use it.
func Chain(lab string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "lab: %s\nnodes:\n", lab)
	base := netip.MustParseAddr("10.0.0.0").As4()
	addr := func(k int) netip.Addr { // address k of the 10/8 block
		x := uint32(base[0])<<24 + uint32(k)
		return netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)})
	}
	for i := 1; i <= n; i++ {
		// Link k (between nk and nk+1) has 2(k-1) on nk, 2(k-1)+1 on nk+1.
		via := addr(2 * (i - 2)) // previous node's end of link i-1
		if i == 1 {
			via = addr(1)
		}
		fmt.Fprintf(&b, "  n%d: {routes: [\"default via %s\"]}\n", i, via)
	}
	b.WriteString("links:\n")
	for k := 1; k < n; k++ {
		fmt.Fprintf(&b, "  - {endpoints: [n%d:e1, n%d:e0], addresses: [%s/31, %s/31]}\n", k, k+1, addr(2*(k-1)), addr(2*(k-1)+1))
	}
	return b.String()
}
