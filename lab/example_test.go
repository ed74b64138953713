package lab_test

import (
	"fmt"
	"os"

	"github.com/setns/setns/lab"
)

// Parse checks a file without touching the kernel; Graph draws it.
func ExampleGraph() {
	l, err := lab.Parse("tiny.yaml", []byte(`
lab: tiny
nodes: {a: {}, b: {}}
links:
  - endpoints: [a:eth0, b:eth0]
    addresses: [10.0.0.1/30, 10.0.0.2/30]
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	lab.Graph(os.Stdout, l, true)
	_, err = lab.Parse("bad.yaml", []byte("lab: tiny\nnodes: {a: {}}\nlinks:\n  - [a:eth0, c:eth0]\n"))
	fmt.Println(err)
	// Output:
	// graph LR
	//   n0["a"]
	//   n1["b"]
	//   n0 ---|"eth0 10.0.0.1/30 -- eth0 10.0.0.2/30"| n1
	// bad.yaml:4: link: endpoint "c:eth0": unknown node "c"
}
