package lab_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/lab"
	"github.com/setns/setns/netns"
)

// ownerYAML is a lab with one delegated node, h1, linked to a plain one.
const ownerYAML = `lab: NAME
nodes:
  r1: {}
  h1:
    owner: "4242"
links:
  - endpoints: [r1:eth0, h1:eth0]
    addresses: [10.0.1.1/24, 10.0.1.2/24]
`

// TestApplyOwner: a node with owner: is made delegated (its user
// namespace, owned by the owner, owns the node's network namespace, as
// "netns list --owners" checks), the others are not; applying again
// changes nothing; a changed owner is drift that status shows and apply
// refuses without writing anything; Destroy removes both halves of the
// delegated node and nothing else.
func TestApplyOwner(t *testing.T) {
	nstest.RequireRoot(t)
	l, file := newLab(t, ownerYAML)
	res := apply(t, l)
	if res.Changes == 0 {
		t.Fatal("apply: no changes")
	}
	h1, r1 := l.Namespace("h1"), l.Namespace("r1")
	o, err := netns.LookupOwner(h1)
	if err != nil || o == nil || !o.Paired || o.UID != 4242 {
		t.Fatalf("h1: owner %+v, %v; want paired, uid 4242", o, err)
	}
	if o, err := netns.LookupOwner(r1); err != nil || o != nil {
		t.Errorf("r1: owner %+v, %v; want none", o, err)
	}
	// The link to the delegated node works.
	nstest.MustIP(t, "-n", r1, "link", "show", "eth0")
	nstest.MustIP(t, "-n", h1, "addr", "show", "dev", "eth0", "to", "10.0.1.2/24")
	if res := apply(t, l); res.Changes != 0 {
		t.Errorf("re-apply: %d changes, want 0", res.Changes)
	}
	st, err := lab.GetStatus(context.Background(), l)
	if err != nil || len(st.Drift) != 0 {
		t.Errorf("status: drift %v, %v; want none", st, err)
	}

	// Another owner in the file: drift, refused with one line.
	text, _ := os.ReadFile(file)
	changed := strings.Replace(string(text), `owner: "4242"`, `owner: "4243"`, 1)
	l2, err := lab.Parse(file, []byte(changed))
	if err != nil {
		t.Fatal(err)
	}
	st, err = lab.GetStatus(context.Background(), l2)
	if err != nil || len(st.Drift) != 1 || st.Drift[0].Kind != "owner" || st.Drift[0].Node != "h1" ||
		!strings.Contains(st.Drift[0].Reason, "uid 4242") || !strings.Contains(st.Drift[0].Reason, "uid 4243") {
		t.Errorf("status with another owner: %+v, %v; want one owner drift for h1", st, err)
	}
	_, err = lab.Apply(context.Background(), l2, nil)
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "does not recreate") {
		t.Errorf("apply with another owner: %v; want a one-line refusal", err)
	}
	if o, _ := netns.LookupOwner(h1); o == nil || !o.Paired || o.UID != 4242 {
		t.Errorf("after the refusal: owner %+v, want uid 4242 still", o)
	}
	// No owner in the file for a delegated node: drift too.
	l3, err := lab.Parse(file, []byte(strings.Replace(string(text), `owner: "4242"`, `{}`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lab.Apply(context.Background(), l3, nil); err == nil || !strings.Contains(err.Error(), "not delegated") {
		t.Errorf("apply without the owner: %v; want a refusal", err)
	}

	// Destroy takes both halves.
	res, err = lab.Destroy(context.Background(), l.Name, nil)
	if err != nil || res.Changes != 2 {
		t.Fatalf("destroy: %+v, %v", res, err)
	}
	names, _ := netns.List()
	if slices.Contains(names, h1) || slices.Contains(names, r1) {
		t.Errorf("after destroy: %v", names)
	}
	if _, err := os.Lstat(netns.UserNSDir + "/" + h1); !os.IsNotExist(err) {
		t.Errorf("after destroy: %s/%s: %v; want it gone", netns.UserNSDir, h1, err)
	}
}

// TestDestroyOwnerNotOurs: Destroy leaves a user namespace at
// UserNSDir/NAME alone when it does not own the namespace it deletes.
func TestDestroyOwnerNotOurs(t *testing.T) {
	nstest.RequireRoot(t)
	l, _ := newLab(t, "lab: NAME\nnodes:\n  a: {}\n")
	apply(t, l)
	// A delegated namespace elsewhere, whose user namespace is then
	// bound under a's name: it does not own a's network namespace.
	other := nstest.TempName(t)
	ns, err := netns.CreateOwned(other, 4242, 4242, nil)
	if err != nil {
		t.Fatal(err)
	}
	ns.Close()
	t.Cleanup(func() { netns.Delete(other); netns.RemoveOwner(other); netns.RemoveOwner(l.Namespace("a")) })
	a := netns.UserNSDir + "/" + l.Namespace("a")
	if err := os.WriteFile(a, nil, 0o444); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := nstest.Run(t, "", "mount", "--bind", netns.UserNSDir+"/"+other, a); code != 0 {
		t.Fatalf("mount: %s", errs)
	}
	if _, err := lab.Destroy(context.Background(), l.Name, nil); err != nil {
		t.Fatal(err)
	}
	if o, err := netns.LookupOwner(l.Namespace("a")); err != nil || o == nil || o.UID != 4242 {
		t.Errorf("user namespace not of the lab: %+v, %v; want it left", o, err)
	}
}
