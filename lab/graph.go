package lab

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Graph writes l's topology as Graphviz DOT ("dot -Tsvg" draws it), or
// with mermaid as a Mermaid flowchart for Markdown. Nodes are boxes,
// bridges ellipses; each edge is a link, labelled with its interface
// names and addresses.
func Graph(w io.Writer, l *Lab, mermaid bool) error {
	var b strings.Builder
	if mermaid {
		ids := map[string]string{}
		b.WriteString("graph LR\n")
		for i, n := range l.Nodes {
			ids[n.Name] = "n" + strconv.Itoa(i)
			if n.Kind == KindBridge {
				fmt.Fprintf(&b, "  %s((%q))\n", ids[n.Name], n.Name)
			} else {
				fmt.Fprintf(&b, "  %s[%q]\n", ids[n.Name], n.Name)
			}
		}
		for _, lk := range l.Links {
			fmt.Fprintf(&b, "  %s ---|%q| %s\n", ids[lk.Ends[0].Node], endLabel(lk, 0, " ")+" -- "+endLabel(lk, 1, " "), ids[lk.Ends[1].Node])
		}
	} else {
		fmt.Fprintf(&b, "graph %q {\n  node [shape=box];\n", l.Name)
		for _, n := range l.Nodes {
			attrs := ""
			if n.Kind == KindBridge {
				attrs = " [shape=ellipse]"
			}
			fmt.Fprintf(&b, "  %q%s;\n", n.Name, attrs)
		}
		for _, lk := range l.Links {
			fmt.Fprintf(&b, "  %q -- %q [taillabel=%q, headlabel=%q];\n", lk.Ends[0].Node, lk.Ends[1].Node, endLabel(lk, 0, "\n"), endLabel(lk, 1, "\n"))
		}
		b.WriteString("}\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func endLabel(lk *Link, i int, sep string) string {
	s := lk.Ends[i].Ifname
	for _, a := range lk.Addrs[i] {
		s += sep + a.String()
	}
	return s
}
