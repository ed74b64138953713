package main

import (
	"fmt"
	"strings"
)

// Setups the cases share. On tmpfs the run directory lists the newest
// entry first, the same in both sandboxes.
const (
	ab     = "ip netns add a; ip netns add b; ip netns set a 7"
	junk   = ab + "; touch /run/netns/junk"
	odd    = `ip netns add "$(printf 'tab\there')"; ip netns add 'q"uote'; ip netns add 'back\slash'; ip netns add 'sp ace'; ip netns add 'ünï'; ip netns set 'sp ace' 4`
	target = "ip netns add a; ip netns add b; ip netns set a 12; ip netns set b 7; ip -n a netns set a 22; ip -n a netns set b 23"
	twoNs  = "ip netns add a; bg a; ip netns attach a2 $(lastpid); ip netns set a 5" // a2 is a too
	many   = "for i in $(seq 70); do ip netns add n$i; done; ip netns set n5 5; ip netns set n69 69; touch /run/netns/zz"
	// Many adds, made in parallel by netns, with a name taken (m5) after
	// the 30th and an invalid one after the 60th.
	manyAdds = `for i in $(seq 30); do echo "netns add m$i"; done >/run/b; echo 'netns add m5' >>/run/b
for i in $(seq 31 60); do echo "netns add m$i"; done >>/run/b; echo 'netns add x/y' >>/run/b
for i in $(seq 61 80); do echo "netns add m$i"; done >>/run/b
`
	batchF = `cat >/run/b <<'EOF'
netns list
netns exec a sh -c 'exit 3'
netns add c
netns list
EOF
`
)

// Deliberate differences: what netns gives instead of ip.
var (
	// add brings the loopback device up, as setns does (ip leaves it down).
	loopbackUp = func(o *outcome) {
		o.stdout = strings.NewReplacer("<LOOPBACK>", "<LOOPBACK,UP,LOWER_UP>",
			"qdisc noop state DOWN", "qdisc noqueue state UNKNOWN").Replace(o.stdout)
	}
	// exec and -n refuse a symlink in the run directory, as the library's
	// Open does; ip follows it.
	symlinkRefused = func(o *outcome) { o.stdout, o.stderr, o.rc = "", "error", 255 }
	// -all delete goes on past a failure (here the directory d, between
	// b and a) and exits 1; ip stops there and exits 0.
	allDeleteGoesOn = func(o *outcome) { o.rc, o.list = 1, "d\n" }
	// monitor flushes each line; ip's block-buffered output is lost when
	// it is killed.
	monitorFlushes = func(o *outcome) { o.stdout = "add x\n" }
	// A child whose setup fails exits 1 (iproute2 6.9+); in 6.1 it went
	// on running the caller's loop, so -all exec printed the remaining
	// namespaces twice.
	childSetupExits = func(o *outcome) { o.stdout = "\nnetns: junk\n\nnetns: b\nb\n\nnetns: a\na\n" }
	// Same in a batch with -force: 6.1's child ran the rest of the batch.
	batchChildExits = func(o *outcome) { o.stdout = "a\n" }
	// In a batch, ip's socket lacks strict checking, so the kernel
	// ignores list-id's target-nsid; netns honours it there too. Names
	// printed once are dropped from ip's cache, so the second run finds
	// none (its fallback looks names up by the target's ids).
	batchHonoursTarget = func(o *outcome) {
		o.stdout = "nsid 22 current-nsid 12 (iproute2 netns name: a)\nnsid 23 current-nsid 7 (iproute2 netns name: b)\n" +
			"nsid 22 current-nsid 12 \nnsid 23 current-nsid 7 \n" +
			"nsid 7 (iproute2 netns name: b)\nnsid 12 (iproute2 netns name: a)\n"
	}
	// ...and so a bad target fails the dump, which ends the batch as it
	// ends ip outside a batch.
	batchDumpFails = func(o *outcome) { o.stdout, o.stderr, o.rc = "", "error", 1 }
	// The kernel (seen on 6.18) ends the nsid dump after its first
	// buffer; ip reads with the smallest one, so shows the first 134
	// ids. netns reads with 32 KiB buffers, so the kernel fills larger
	// ones: about 1170 ids fit in the first.
	dumpNotCut = func(o *outcome) {
		o.stdout = ""
		for i := 1; i <= 150; i++ {
			o.stdout += fmt.Sprintf("nsid %d (iproute2 netns name: n%d)\n", i, i)
		}
	}
)

var diffCases = []diffCase{
	// list, and the run directory's states
	{name: "list/no-dir", cmd: "IP netns"},
	{name: "list/no-dir-json", cmd: "IP -j netns list"},
	{name: "list/empty", setup: "mkdir /run/netns", cmd: "IP netns list"},
	{name: "list/empty-json", setup: "mkdir /run/netns", cmd: "IP -j netns list"},
	{name: "list/empty-pretty", setup: "mkdir /run/netns", cmd: "IP -j -p netns list"},
	{name: "list/ids", setup: ab, cmd: "IP netns list"},
	{name: "list/bare", setup: ab, cmd: "IP netns"},
	{name: "list/json", setup: ab, cmd: "IP -j netns list"},
	{name: "list/pretty", setup: ab, cmd: "IP -j -p netns show"},
	{name: "list/bare-json", setup: ab, cmd: "IP -json netns"},
	{name: "list/l", setup: ab, cmd: "IP netns l"},
	{name: "list/s", setup: ab, cmd: "IP netns s"},
	{name: "list/sh", setup: ab, cmd: "IP netns sh"},
	{name: "list/ls", setup: ab, cmd: "IP netns ls"},
	{name: "list/lst", setup: ab, cmd: "IP netns lst"},
	{name: "list/junk", setup: junk, cmd: "IP netns list"},
	{name: "list/junk-json", setup: junk, cmd: "IP -j netns list"},
	{name: "list/dir-symlinks", setup: "ip netns add a; ip netns set a 3; mkdir /run/netns/d; ln -s a /run/netns/l; ln -s nowhere /run/netns/x", cmd: "IP netns list"},
	{name: "list/odd-names", setup: odd, cmd: "IP netns list"},
	{name: "list/odd-names-json", setup: odd, cmd: "IP -j netns list"},
	{name: "list/odd-names-pretty", setup: odd, cmd: "IP -j -p netns list"},
	{name: "list/control-chars-json", setup: `ip netns add "$(printf 'c\001x')"; ip netns add "$(printf 'n\nl')"; ip netns add "$(printf 'd\177el')"`, cmd: "IP -j netns list"},
	{name: "list/control-chars", setup: `ip netns add "$(printf 'c\001x')"; ip netns add "$(printf 'n\nl')"`, cmd: "IP netns list"},
	{name: "list/longest-name", setup: "ip netns add $(printf '%0255d' 7)", cmd: "IP netns list"},
	{name: "list/many", setup: many, cmd: "IP netns list"},
	{name: "list/many-json", setup: many, cmd: "IP -j netns list"},
	{name: "list/extra-word", setup: ab, cmd: "IP netns list foo"},
	{name: "list/invalid-second-word", setup: ab, cmd: "IP netns list .."},
	{name: "list/pretty-without-json", setup: ab, cmd: "IP -p netns list"},
	{name: "list/double-dash-option", setup: ab, cmd: "IP --json netns list"},
	{name: "list/all-ignored", setup: ab, cmd: "IP -all netns list"},
	{name: "list/unreadable-dir", setup: "mkdir -m 0 /run/netns; ip netns add a", cmd: "IP netns list"},

	// list-id
	{name: "list-id/none", cmd: "IP netns list-id"},
	{name: "list-id/many", setup: "for i in $(seq 150); do ip netns add n$i; ip netns set n$i $i; done", cmd: "IP netns list-id", ours: dumpNotCut},
	{name: "list-id/text", setup: ab + "; ip netns set b 3", cmd: "IP netns list-id"},
	{name: "list-id/json", setup: ab + "; ip netns set b 3", cmd: "IP -j netns list-id"},
	{name: "list-id/pretty", setup: ab + "; ip netns set b 3", cmd: "IP -j -p netns list-id"},
	{name: "list-id/empty-json", setup: "ip netns add a", cmd: "IP -j -p netns list-id"},
	{name: "list-id/unnamed", setup: "ip netns add a; bg a; ip netns set a 5; ip netns del a", cmd: "IP netns list-id"},
	{name: "list-id/unnamed-json", setup: "ip netns add a; bg a; ip netns set a 5; ip netns del a", cmd: "IP -j netns list-id"},
	{name: "list-id/nsid", setup: ab, cmd: "IP netns list-id nsid 7"},
	{name: "list-id/nsid-json", setup: ab, cmd: "IP -j netns list-id nsid 7"},
	{name: "list-id/nsid-unknown", setup: ab, cmd: "IP netns list-id nsid 99"},
	{name: "list-id/nsid-unknown-json", setup: ab, cmd: "IP -j netns list-id nsid 99"},
	{name: "list-id/target", setup: target, cmd: "IP netns list-id target-nsid 12"},
	{name: "list-id/target-json", setup: target, cmd: "IP -j netns list-id target-nsid 12"},
	{name: "list-id/target-nsid", setup: target, cmd: "IP netns list-id target-nsid 12 nsid 7"},
	{name: "list-id/nsid-target", setup: target, cmd: "IP -j netns list-id nsid 7 target-nsid 0xc"},
	{name: "list-id/target-unknown", setup: target, cmd: "IP netns list-id target-nsid 99"},
	{name: "list-id/target-unknown-json", setup: target, cmd: "IP -j netns list-id target-nsid 99"},
	{name: "list-id/current-unassigned", setup: "ip netns add a; ip netns add c; ip netns set a 1; ip -n a netns set c 4", cmd: "IP netns list-id target-nsid 1"},
	{name: "list-id/fallback-by-nsid", setup: "ip netns add a; ip netns add c; ip netns add z; ip netns set a 1; ip netns set z 4; ip -n a netns set c 4", cmd: "IP netns list-id target-nsid 1"},
	{name: "list-id/first-name-wins", setup: twoNs, cmd: "IP netns list-id"},
	{name: "list-id/junk", setup: junk, cmd: "IP netns list-id"},
	{name: "list-id/nsid-negative", setup: ab, cmd: "IP netns list-id nsid -1"},
	{name: "list-id/nsid-not-a-number", setup: ab, cmd: "IP netns list-id nsid x"},
	{name: "list-id/duplicate", setup: ab, cmd: "IP netns list-id target-nsid 1 target-nsid 2"},
	{name: "list-id/incomplete", setup: ab, cmd: "IP netns list-id target-nsid"},
	{name: "list-id/bad-keyword", setup: ab, cmd: "IP netns list-id foo"},
	{name: "list-id/junk-bad-value", setup: junk, cmd: "IP netns list-id nsid x"},
	{name: "list-id/list-", setup: ab, cmd: "IP netns list-"},
	{name: "list-id/list-i", setup: ab, cmd: "IP netns list-i"},

	// add
	{name: "add/new", cmd: "IP netns add a"},
	{name: "add/into-empty-dir", setup: "mkdir /run/netns", cmd: "IP netns add a"},
	{name: "add/exists", setup: "ip netns add a", cmd: "IP netns add a"},
	{name: "add/no-name", cmd: "IP netns add"},
	{name: "add/slash", cmd: "IP netns add a/b"},
	{name: "add/dotdot", cmd: "IP netns add .."},
	{name: "add/dot", cmd: "IP netns add ."},
	{name: "add/empty-name", cmd: "IP netns add ''"},
	{name: "add/256-chars", cmd: "IP netns add $(printf '%0256d' 1)"},
	{name: "add/255-chars", cmd: "IP netns add $(printf '%0255d' 1)"},
	{name: "add/a", cmd: "IP netns a x"},
	{name: "add/ad", cmd: "IP netns ad x"},
	{name: "add/extra-word", cmd: "IP netns add x y"},
	{name: "add/all-slash", cmd: "IP -all netns add a/b"},
	{name: "add/dash-name", cmd: "IP netns add -dash"},
	{name: "add/digits", cmd: "IP netns add 123"},
	{name: "add/loopback-up", cmd: "IP netns add a && ip -n a -o link show lo", ours: loopbackUp},
	{name: "add/then-exec", cmd: "IP netns add a && ip netns exec a ip netns identify"},

	// delete
	{name: "delete/one", setup: ab, cmd: "IP netns delete a"},
	{name: "delete/d", setup: ab, cmd: "IP netns d a"},
	{name: "delete/del", setup: ab, cmd: "IP netns del b"},
	{name: "delete/missing", setup: ab, cmd: "IP netns delete zz"},
	{name: "delete/no-name", setup: ab, cmd: "IP netns delete"},
	{name: "delete/dir", setup: "mkdir -p /run/netns/d", cmd: "IP netns delete d"},
	{name: "delete/junk", setup: junk, cmd: "IP netns delete junk"},
	{name: "delete/dangling-symlink", setup: "mkdir /run/netns; ln -s nowhere /run/netns/l", cmd: "IP netns delete l"},
	{name: "delete/only-first", setup: ab, cmd: "IP netns del a b"},
	{name: "delete/invalid", setup: ab, cmd: "IP netns del ../netns/a"},
	{name: "delete/all", setup: junk, cmd: "IP -all netns delete"},
	{name: "delete/all-no-dir", cmd: "IP -all netns delete"},
	{name: "delete/all-ignores-name", setup: ab, cmd: "IP -all netns delete a"},
	{name: "delete/all-abbreviated", setup: ab, cmd: "IP -a netns del"},
	{name: "delete/all-goes-on", setup: "ip netns add a; mkdir /run/netns/d; ip netns add b", cmd: "IP -all netns delete", ours: allDeleteGoesOn},

	// set
	{name: "set/id", setup: ab, cmd: "IP netns set b 3"},
	{name: "set/auto", setup: ab, cmd: "IP netns set b auto"},
	{name: "set/se", setup: ab, cmd: "IP netns se b 4"},
	{name: "set/s-is-show", setup: ab, cmd: "IP netns s b 4"},
	{name: "set/hex", setup: ab, cmd: "IP netns set b 0x10"},
	{name: "set/octal", setup: ab, cmd: "IP netns set b 010"},
	{name: "set/leading-space", setup: ab, cmd: "IP netns set b ' 5'"},
	{name: "set/id-taken", setup: ab, cmd: "IP netns set b 7"},
	{name: "set/already-set", setup: ab, cmd: "IP netns set a 8"},
	{name: "set/same-again", setup: ab, cmd: "IP netns set a 7"},
	{name: "set/missing-name", setup: ab, cmd: "IP netns set zz 5"},
	{name: "set/no-nsid", setup: ab, cmd: "IP netns set a"},
	{name: "set/no-args", setup: ab, cmd: "IP netns set"},
	{name: "set/negative", setup: ab, cmd: "IP netns set b -3"},
	{name: "set/not-a-number", setup: ab, cmd: "IP netns set b abc"},
	{name: "set/overflow", setup: ab, cmd: "IP netns set b 2147483648"},
	{name: "set/trailing-space", setup: ab, cmd: "IP netns set b '5 '"},
	{name: "set/junk", setup: junk, cmd: "IP netns set junk 5"},
	{name: "set/dir", setup: "mkdir -p /run/netns/d", cmd: "IP netns set d 5"},
	{name: "set/symlink", setup: "ip netns add a; ln -s a /run/netns/l", cmd: "IP netns set l 6"},

	// identify
	{name: "identify/unnamed", cmd: "IP netns identify"},
	{name: "identify/self", setup: "ip netns attach self $$", cmd: "IP netns identify"},
	{name: "identify/pid", setup: "ip netns add a; bg a", cmd: "IP netns identify $P1"},
	{name: "identify/i", setup: "ip netns add a; bg a", cmd: "IP netns i $P1"},
	{name: "identify/id", setup: "ip netns add a; bg a", cmd: "IP netns id $P1"},
	{name: "identify/last-name-wins", setup: twoNs, cmd: "IP netns identify $P1"},
	{name: "identify/symlink", setup: "mkdir /run/netns; ln -s a /run/netns/l; ip netns add a; bg a", cmd: "IP netns identify $P1"},
	{name: "identify/not-a-pid", cmd: "IP netns identify abc"},
	{name: "identify/extra", cmd: "IP netns identify 1 2"},
	{name: "identify/no-such-pid", cmd: "IP netns identify 999999999"},
	{name: "identify/empty", cmd: "IP netns identify ''"},
	{name: "identify/all-empty", cmd: "IP -all netns identify ''"},
	{name: "identify/no-dir", setup: "", cmd: "IP netns identify $$"},

	// pids
	{name: "pids/two", setup: "ip netns add a; bg a; bg a", cmd: "IP netns pids a"},
	{name: "pids/p", setup: "ip netns add a; bg a", cmd: "IP netns p a"},
	{name: "pids/none", setup: "ip netns add a", cmd: "IP netns pids a"},
	{name: "pids/missing", cmd: "IP netns pids zz"},
	{name: "pids/extra", setup: "ip netns add a", cmd: "IP netns pids a b"},
	{name: "pids/no-name", cmd: "IP netns pids"},
	{name: "pids/junk", setup: junk, cmd: "IP netns pids junk"},
	{name: "pids/shared", setup: twoNs + "; bg a2", cmd: "IP netns pids a2"},

	// attach
	{name: "attach/pid", setup: "ip netns add a; bg a", cmd: "IP netns attach b $P1 && ip netns identify $P1"},
	{name: "attach/at", setup: "ip netns add a; bg a", cmd: "IP netns at b $P1"},
	{name: "attach/self", cmd: "IP netns attach me $$ && ip netns identify"},
	{name: "attach/hex-pid", setup: "ip netns add a; bg a", cmd: "IP netns attach h $(printf 0x%x $P1)"},
	{name: "attach/zero", cmd: "IP netns attach x 0"},
	{name: "attach/not-a-number", cmd: "IP netns attach x abc"},
	{name: "attach/no-pid", cmd: "IP netns attach x"},
	{name: "attach/no-such-pid", setup: "mkdir /run/netns", cmd: "IP netns attach x 99999999"},
	{name: "attach/negative", setup: "mkdir /run/netns", cmd: "IP netns attach x -1"},
	{name: "attach/exists", setup: "ip netns add a; bg a", cmd: "IP netns attach a $P1"},

	// exec
	{name: "exec/true", setup: "ip netns add a", cmd: "IP netns exec a true"},
	{name: "exec/false", setup: "ip netns add a", cmd: "IP netns exec a false"},
	{name: "exec/status", setup: "ip netns add a", cmd: "IP netns exec a sh -c 'exit 42'"},
	{name: "exec/not-found", setup: "ip netns add a", cmd: "IP netns exec a nonexistentcmd"},
	{name: "exec/not-executable", setup: "ip netns add a; touch /run/x; chmod 644 /run/x", cmd: "IP netns exec a /run/x"},
	{name: "exec/no-namespace", cmd: "IP netns exec zz true"},
	{name: "exec/no-args", cmd: "IP netns exec"},
	{name: "exec/no-command", setup: "ip netns add a", cmd: "IP netns exec a"},
	{name: "exec/e", setup: "ip netns add a", cmd: "IP netns e a true"},
	{name: "exec/identify", setup: ab, cmd: "IP netns exec a ip netns identify"},
	{name: "exec/sysfs", setup: "ip netns add a", cmd: "IP netns exec a ls /sys/class/net"},
	{name: "exec/etc-binds", setup: "ip netns add a; mkdir -p /etc/netns/a; echo 'nameserver 192.0.2.1' >/etc/netns/a/resolv.conf", cmd: "IP netns exec a cat /etc/resolv.conf"},
	{name: "exec/links", setup: "ip netns add a", cmd: "IP netns exec a ip -o link"},
	{name: "exec/junk", setup: junk, cmd: "IP netns exec junk true"},
	{name: "exec/symlink", setup: "ip netns add a; ln -s a /run/netns/l", cmd: "IP netns exec l ip netns identify", ours: symlinkRefused},
	{name: "exec/dashdash", setup: "ip netns add a", cmd: "IP netns exec a -- true"},
	{name: "exec/streams", setup: "ip netns add a", cmd: "IP netns exec a sh -c 'echo out; echo err >&2'"},
	{name: "exec/killed", setup: "ip netns add a", cmd: "IP netns exec a sh -c 'kill -9 $$'"},
	{name: "exec/stdout-flushed", setup: "ip netns add a", cmd: "IP netns exec a echo hi | cat"},
	{name: "exec/all", setup: ab, cmd: "IP -all netns exec ip netns identify"},
	{name: "exec/all-status-ignored", setup: ab, cmd: "IP -all netns exec sh -c 'exit 3'"},
	{name: "exec/all-killed", setup: ab, cmd: "IP -all netns exec sh -c 'kill -9 $$'", noStderr: true},
	{name: "exec/all-no-dir", cmd: "IP -all netns exec true"},
	{name: "exec/all-no-command", setup: ab, cmd: "IP -all netns exec"},
	{name: "exec/all-first-word-is-command", setup: ab, cmd: "IP -all netns exec a true"},
	{name: "exec/all-junk", setup: junk, cmd: "IP -all netns exec ip netns identify", ours: childSetupExits},

	// -n NAME
	{name: "netns/identify", setup: "ip netns add a", cmd: "IP -n a netns identify"},
	{name: "netns/list-id", setup: "ip netns add a; ip netns add b; ip -n a netns set b 9", cmd: "IP -n a netns list-id"},
	{name: "netns/missing", cmd: "IP -n zz netns list"},
	{name: "netns/empty", setup: "mkdir /run/netns", cmd: "IP -n '' netns list"},
	{name: "netns/no-value", cmd: "IP -n"},
	{name: "netns/path", setup: "ip netns add a", cmd: "IP -n ../netns/a netns identify"},
	{name: "netns/long-option", setup: "ip netns add a", cmd: "IP -netns a netns identify"},
	{name: "netns/double-dash", setup: "ip netns add a", cmd: "IP --netns a netns identify"},
	{name: "netns/last-wins", setup: ab, cmd: "IP -n a -n b netns identify"},
	{name: "netns/first-fails", setup: ab, cmd: "IP -n zz -n b netns identify"},
	{name: "netns/pids-self", setup: "ip netns add a", cmd: "IP -n a netns pids a", maskNums: true},
	{name: "netns/exec", setup: ab, cmd: "IP -n a netns exec b ip netns identify"},
	{name: "netns/batch", setup: "ip netns add a; printf 'netns identify\\nnetns list-id\\n' >/run/b", cmd: "IP -n a -batch /run/b netns"},
	{name: "netns/junk", setup: junk, cmd: "IP -n junk netns list"},

	// global options and verbs
	{name: "options/unknown", cmd: "IP -bogus netns list"},
	{name: "options/help-verb", cmd: "IP netns help"},
	{name: "options/h-verb", cmd: "IP netns h"},
	{name: "options/unknown-verb", cmd: "IP netns bogus"},
	{name: "options/unknown-verb-invalid-name", cmd: "IP netns bogus a/b"},
	// "link" is netns's own and matched only in full: ip's prefixes of
	// "list" keep their meaning, and "lin" stays unknown.
	{name: "options/li-is-list", setup: ab, cmd: "IP netns li"},
	{name: "options/lin-is-unknown", setup: ab, cmd: "IP netns lin"},
	{name: "options/lin-invalid-name", cmd: "IP netns lin a/b"},
	{name: "options/empty-verb", cmd: "IP netns ''"},
	{name: "options/case-sensitive", setup: ab, cmd: "IP netns LIST"},
	{name: "options/pretty-json", setup: ab, cmd: "IP -p -j netns"},
	{name: "options/ignored", setup: ab, cmd: "IP -s -d -o -c -4 -br -N netns list"},
	{name: "options/color", setup: ab, cmd: "IP -color=never netns list"},
	{name: "options/color-bad", setup: ab, cmd: "IP -color=bad netns list"},
	{name: "options/family", setup: ab, cmd: "IP -f inet netns list"},
	{name: "options/family-bad", setup: ab, cmd: "IP -f bad netns list"},
	{name: "options/family-missing", cmd: "IP -f"},
	{name: "options/batch-missing", cmd: "IP -b"},
	{name: "options/end-of-options", setup: ab, cmd: "IP -j -- netns list"},

	// batch
	{name: "batch/file", setup: "ip netns add a; printf 'netns list\\nnetns add b\\nnetns list\\n' >/run/b", cmd: "IP -batch /run/b netns"},
	{name: "batch/stdin", cmd: "printf 'netns add a\\nnetns l\\n' | IP -batch - netns"},
	{name: "batch/b", cmd: "printf 'netns add a\\nnetns l\\n' | IP -b - netns"},
	{name: "batch/stops", setup: "ip netns add a; " + batchF, cmd: "IP -batch /run/b netns"},
	{name: "batch/force", setup: "ip netns add a; " + batchF, cmd: "IP -force -batch /run/b netns"},
	{name: "batch/invalid-name-exits", cmd: "printf 'netns add a/b\\nnetns add c\\n' | IP -force -batch - netns"},
	{name: "batch/unknown-verb-exits", cmd: "printf 'netns add a\\nnetns bogus\\nnetns add c\\n' | IP -force -batch - netns"},
	{name: "batch/continuation-comments", setup: "cat >/run/b <<'EOF'\nnetns add \\\na # comment\n\n   # just a comment\nnetns add 'b c' \"d\"x\nnetns list\nEOF\n", cmd: "IP -batch /run/b netns"},
	{name: "batch/missing-continuation", cmd: "printf 'netns add a\\nnetns add b \\\\\\n' | IP -batch - netns"},
	{name: "batch/net-netn", cmd: "printf 'net add a\\nnetn add b\\nnetns l\\n' | IP -batch - netns"},
	{name: "batch/unknown-object", cmd: "printf 'bogus x\\nnetns add a\\n' | IP -force -batch - netns"},
	{name: "batch/no-file", cmd: "IP -batch /nonexistent netns"},
	{name: "batch/all-exec", setup: ab, cmd: "printf 'netns exec ip netns identify\\n' | IP -all -batch - netns"},
	{name: "batch/exec-status", setup: "ip netns add a", cmd: "printf 'netns exec a true\\nnetns exec a false\\nnetns list\\n' | IP -batch - netns"},
	{name: "batch/exec-killed", setup: "ip netns add a", cmd: "printf 'netns exec a sh -c \"kill -9 $$\"\\nnetns list\\n' | IP -force -batch - netns", noStderr: true},
	{name: "batch/exec-no-namespace", setup: "ip netns add a", cmd: "printf 'netns exec zz true\\nnetns list\\n' | IP -force -batch - netns", ours: batchChildExits},
	{name: "batch/unterminated-quote", cmd: "printf \"netns add 'a\\nnetns add b\\n\" | IP -batch - netns"},
	{name: "batch/json", setup: ab, cmd: "printf 'netns list\\nnetns list-id\\n' | IP -j -batch - netns"},
	{name: "batch/list-id-cache", setup: target, cmd: "printf 'netns list-id target-nsid 12\\nnetns list-id target-nsid 12\\nnetns list-id\\n' | IP -batch - netns", ours: batchHonoursTarget},
	{name: "batch/dump-failure-exits", setup: target, cmd: "printf 'netns list-id target-nsid 99\\nnetns list\\n' | IP -force -batch - netns", ours: batchDumpFails},
	{name: "batch/set-then-list", setup: ab, cmd: "printf 'netns list-id\\nnetns set b 2\\nnetns list-id\\nnetns list\\n' | IP -batch - netns"},
	{name: "batch/many-adds-stop", setup: manyAdds, cmd: "IP -batch /run/b netns"},
	{name: "batch/many-adds-force", setup: manyAdds, cmd: "IP -force -batch /run/b netns"},
	{name: "batch/many-adds-list", setup: manyAdds + "sed -i /x.y/d /run/b; echo 'netns list' >>/run/b", cmd: "IP -force -batch /run/b netns"},
	{name: "batch/blank-lines", cmd: "printf '\\n\\nnetns add a\\n\\n' | IP -batch - netns"},

	// monitor
	{name: "monitor/m", cmd: "timeout 0.5 IP netns m"},
	{name: "monitor/flushes", cmd: "IP netns monitor & sleep 0.7; ip netns add x; sleep 0.5; kill $!; wait $!", ours: monitorFlushes},
}
