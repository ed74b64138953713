package link_test

import (
	"context"
	"errors"
	"io/fs"
	"testing"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/link"
)

func TestDelete(t *testing.T) {
	nstest.RequireIP(t)
	a, an := nstest.NewNamed(t)
	b, bn := nstest.NewNamed(t)
	ctx := context.Background()
	if err := link.AddVeth(ctx, link.End{NS: a, Name: "eth0"}, link.End{NS: b, Name: "eth0"}, nil); err != nil {
		t.Fatal(err)
	}
	nstest.MustIP(t, "-n", an, "link", "add", "foreign", "type", "veth", "peer", "name", "foreign1")
	if err := link.Delete(ctx, a, "foreign"); !errors.Is(err, link.ErrNotOwned) {
		t.Errorf("Delete(foreign) = %v, want ErrNotOwned", err)
	}
	if err := link.Delete(ctx, a, "lo"); !errors.Is(err, link.ErrNotOwned) {
		t.Errorf("Delete(lo) = %v, want ErrNotOwned", err)
	}
	if err := link.Delete(ctx, a, "nosuch"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Delete(nosuch) = %v, want fs.ErrNotExist", err)
	}
	if err := link.Delete(ctx, a, "bad:name"); !errors.Is(err, link.ErrInvalidName) {
		t.Errorf("Delete(bad:name) = %v, want ErrInvalidName", err)
	}
	if err := link.Delete(ctx, a, "eth0"); err != nil {
		t.Fatalf("Delete(eth0): %v", err)
	}
	if _, ok := ipShow(t, an)["eth0"]; ok {
		t.Errorf("%s:eth0 still there", an)
	}
	if _, ok := ipShow(t, bn)["eth0"]; ok {
		t.Errorf("peer %s:eth0 still there", bn)
	}
	if _, ok := ipShow(t, an)["foreign"]; !ok {
		t.Errorf("the foreign veth is gone")
	}
}
