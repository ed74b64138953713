package lab_test

import (
	"context"
	"os"
	"syscall"
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
	c0 := cpu()
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
	t.Logf("apply %v cpu %v %v", time.Since(start), cpu()-c0, err)
	start = time.Now()
	c0 = cpu()
	res, err := lab.Apply(context.Background(), l, nil)
	t.Logf("reapply %v cpu %v %v %v", time.Since(start), cpu()-c0, res.Changes, err)
	start = time.Now()
	c0 = cpu()
	lab.Destroy(context.Background(), name, nil)
	t.Logf("destroy %v cpu %v", time.Since(start), cpu()-c0)
}

// cpu is the process's user+system time so far.
func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
