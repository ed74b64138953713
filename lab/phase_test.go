package lab_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/setns/setns/internal/nstest"
	"github.com/setns/setns/lab"
)

func TestPhaseTimes(t *testing.T) {
	if os.Getenv("LAB_PHASES") == "" {
		t.Skip("LAB_PHASES=1 to print phase times")
	}
	nstest.RequireRoot(t)
	name := nstest.TempName(t)
	l, _ := lab.Parse("c.yaml", []byte(lab.Chain(name, 1000)))
	t.Cleanup(func() { lab.Destroy(context.Background(), name, nil) })
	start := time.Now()
	last := ""
	p, err := lab.MakePlan(context.Background(), l)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("plan %v", time.Since(start))
	_, err = p.Execute(context.Background(), &lab.Options{Progress: func(pr lab.Progress) {
		if pr.Phase != last {
			t.Logf("%v %s starts", time.Since(start), pr.Phase)
			last = pr.Phase
		}
	}})
	p.Close()
	t.Logf("apply %v %v", time.Since(start), err)
	start = time.Now()
	res, err := lab.Apply(context.Background(), l, nil)
	t.Logf("reapply %v %v %v", time.Since(start), res.Changes, err)
	start = time.Now()
	lab.Destroy(context.Background(), name, nil)
	t.Logf("destroy %v", time.Since(start))
}
