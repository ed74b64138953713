package link_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/link"
)

// Batch.Create makes every pair in place, down, with the names, MACs and
// group asked for, and says which pair failed.
func TestBatch(t *testing.T) {
	nstest.RequireIP(t)
	a, an := nstest.NewNamed(t)
	b, bn := nstest.NewNamed(t)
	var batch link.Batch
	const n = 100 // more than one pipelined write
	for i := range n {
		batch.Veth(link.End{NS: a, Name: fmt.Sprintf("a%d", i)}, link.End{NS: b, Name: fmt.Sprintf("b%d", i)}, &link.Options{Group: 77, MTU: 9000})
	}
	var done []int
	if err := batch.Create(context.Background(), func(i int) { done = append(done, i) }); err != nil {
		t.Fatal(err)
	}
	if len(done) != n || !slices.IsSorted(done) {
		t.Errorf("done called for %v", done)
	}
	as, bs := ipShow(t, an), ipShow(t, bn)
	for i := range n {
		x, y := as[fmt.Sprintf("a%d", i)], bs[fmt.Sprintf("b%d", i)]
		if x.LinkInfo.Kind != "veth" || y.LinkInfo.Kind != "veth" || x.Link != y.Index || y.Link != x.Index {
			t.Fatalf("pair %d: %+v %+v", i, x, y)
		}
		if x.up() || y.up() {
			t.Errorf("pair %d is up", i)
		}
		if want := link.StableMAC(machineID(t), an, x.Name).String(); x.Address != want {
			t.Errorf("%s: MAC %s, want %s (as AddVeth gives)", x.Name, x.Address, want)
		}
	}
	out := nstest.MustIP(t, "-n", an, "-br", "link", "show", "group", "77")
	if got := len(splitLines(out)); got != n {
		t.Errorf("%d links in group 77, want %d", got, n)
	}

	// A bad name anywhere: nothing is made.
	var bad link.Batch
	bad.Veth(link.End{NS: a, Name: "x0"}, link.End{NS: b, Name: "x0"}, nil)
	bad.Veth(link.End{NS: a, Name: "x1"}, link.End{NS: b, Name: "x1-is-far-too-long"}, nil)
	err := bad.Create(context.Background(), nil)
	var be *link.BatchError
	if !errors.As(err, &be) || be.Index != 1 || !errors.Is(err, link.ErrInvalidName) {
		t.Errorf("bad name: %v", err)
	}
	if _, ok := ipShow(t, an)["x0"]; ok {
		t.Error("a batch with a bad name made a pair")
	}

	// A taken name: the pairs before it are made, the error names it.
	var dup link.Batch
	dup.Veth(link.End{NS: a, Name: "y0"}, link.End{NS: b, Name: "y0"}, nil)
	dup.Veth(link.End{NS: a, Name: "a5"}, link.End{NS: b, Name: "y1"}, nil)
	err = dup.Create(context.Background(), nil)
	if !errors.As(err, &be) || be.Index != 1 || !errors.Is(err, fs.ErrExist) {
		t.Errorf("taken name: %v", err)
	}
	if _, ok := ipShow(t, an)["y0"]; !ok {
		t.Error("the pair before the failure was not made")
	}
}

// machineID is what the package keys MACs with.
func machineID(t *testing.T) string {
	b, err := os.ReadFile("/etc/machine-id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func splitLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}
