package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// side is one half of a comparison: prep runs untimed before every
// measurement (for example to create or delete namespaces), then each
// command of steps runs in turn and their times add up (so "ip netns add
// X" followed by "ip netns exec X true" is one measurement).
type side struct {
	prep  func(i int) error
	steps func(i int) [][]string
	env   []string // added to the environment of every step
}

// comparison is one line of the table.
type comparison struct {
	key     string        // short identifier, for -only
	title   string        // what is compared, as the table shows it
	goal    float64       // on the ratio ours/theirs
	absGoal time.Duration // on ours' median
	pairs   int
	ours    side
	theirs  side
	cleanup func() error // after each pair, untimed
}

// result holds the medians of one comparison.
type result struct {
	ratio, ours, theirs time.Duration // ratio in parts per million
	pairs               int
}

// measure runs the comparison: a few untimed warm-up pairs, then pairs
// alternately, ours first.
func measure(c *comparison) (result, error) {
	warm := min(3, c.pairs)
	var ratios []float64
	var ours, theirs []time.Duration
	for i := range warm + c.pairs {
		a, err := timeSide(&c.ours, i)
		if err != nil {
			return result{}, fmt.Errorf("ours: %w", err)
		}
		var b time.Duration
		if c.theirs.steps != nil {
			if b, err = timeSide(&c.theirs, i); err != nil {
				return result{}, fmt.Errorf("theirs: %w", err)
			}
		}
		if c.cleanup != nil {
			if err := c.cleanup(); err != nil {
				return result{}, fmt.Errorf("cleanup: %w", err)
			}
		}
		if i < warm {
			continue
		}
		ours, theirs = append(ours, a), append(theirs, b)
		if b > 0 {
			ratios = append(ratios, float64(a)/float64(b))
		}
	}
	return result{
		ratio:  time.Duration(median(ratios) * 1e6),
		ours:   median(ours),
		theirs: median(theirs),
		pairs:  c.pairs,
	}, nil
}

func median[T float64 | time.Duration](v []T) T {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func timeSide(s *side, i int) (time.Duration, error) {
	if s.prep != nil {
		if err := s.prep(i); err != nil {
			return 0, fmt.Errorf("prepare: %w", err)
		}
	}
	var total time.Duration
	for _, argv := range s.steps(i) {
		d, err := timeCmd(argv, s.env)
		if err != nil {
			return 0, err
		}
		total += d
	}
	return total, nil
}

// devNull is where the commands' stdout goes; it is opened once so that
// opening it is not part of any measurement.
var devNull, _ = os.OpenFile(os.DevNull, os.O_WRONLY, 0)

// timeCmd runs argv once, from fork to reaped exit, and fails unless it
// exits 0 with nothing on stderr.
func timeCmd(argv, env []string) (time.Duration, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = devNull, &errb
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil || errb.Len() > 0 {
		return 0, fmt.Errorf("%s: %v: %s", strings.Join(argv, " "), err, strings.TrimSpace(errb.String()))
	}
	return d, nil
}

// ms formats a duration in milliseconds.
func ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/1e6) }
