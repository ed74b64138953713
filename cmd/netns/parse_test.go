package main

import (
	"bufio"
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestLookupVerb(t *testing.T) {
	for _, tc := range []struct{ word, want string }{
		{"list", "list"}, {"l", "list"}, {"li", "list"}, {"ls", "list"}, {"lst", "list"},
		{"s", "list"}, {"sh", "list"}, {"show", "list"},
		{"list-", "list-id"}, {"list-i", "list-id"}, {"list-id", "list-id"},
		{"h", "help"}, {"help", "help"},
		{"a", "add"}, {"ad", "add"}, {"add", "add"},
		{"se", "set"}, {"set", "set"},
		{"d", "delete"}, {"del", "delete"}, {"delete", "delete"},
		{"i", "identify"}, {"id", "identify"},
		{"p", "pids"}, {"e", "exec"}, {"m", "monitor"},
		{"at", "attach"}, {"attach", "attach"},
		{"do", "doctor"}, {"doc", "doctor"}, {"doctor", "doctor"},
		{"", ""}, {"x", ""}, {"LIST", ""}, {"lists", ""}, {"adds", ""}, {"list-ids", ""},
	} {
		got := ""
		if i := lookupVerb(tc.word); i >= 0 {
			got = verbs[i].names[0]
		}
		if got != tc.want {
			t.Errorf("lookupVerb(%q): got %q, want %q", tc.word, got, tc.want)
		}
	}
}

func TestResolveOption(t *testing.T) {
	for _, tc := range []struct{ opt, want string }{
		{"-j", "-json"}, {"-json", "-json"}, {"-p", "-pretty"}, {"-pretty", "-pretty"},
		{"-b", "-batch"}, {"-ba", "-batch"}, {"-br", "-brief"},
		{"-f", "-family"}, {"-fo", "-force"}, {"-force", "-force"},
		{"-n", "-netns"}, {"-netns", "-netns"}, {"-N", "-Numeric"},
		{"-a", "-all"}, {"-all", "-all"},
		{"-h", "-help"}, {"-he", "-help"}, {"-help", "-help"}, {"-hu", "-human"},
		{"-c", "-color"}, {"-color=never", "-color"}, {"-col=auto", "-color"}, {"-color=bad", ""},
		{"-", "-loops"}, {"-l", "-loops"}, {"-s", "-stats"}, {"-d", "-details"}, {"-o", "-oneline"},
		{"-4", "-4"}, {"-45", ""}, {"-V", "-Version"}, {"-echo", "-echo"}, {"-ec", ""},
		{"-x", ""}, {"-jsonx", ""}, {"-J", ""},
	} {
		if got, _ := resolveOption(tc.opt); got != tc.want {
			t.Errorf("resolveOption(%q): got %q, want %q", tc.opt, got, tc.want)
		}
	}
}

func TestParseOptions(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // options, rest and keep, or "error: ..."
	}{
		{nil, "{} rest=[] keep=[]"},
		{[]string{"list"}, "{} rest=[list] keep=[list]"},
		{[]string{"-j", "-p", "list"}, "{json pretty} rest=[list] keep=[-j -p list]"},
		{[]string{"--json", "list"}, "{json} rest=[list] keep=[--json list]"},
		{[]string{"-all", "exec", "ip", "-j", "x"}, "{all} rest=[exec ip -j x] keep=[-all exec ip -j x]"},
		{[]string{"-n", "a", "-j", "identify"}, "{json netns=[a]} rest=[identify] keep=[-j identify]"},
		{[]string{"-n", "a", "-netns", "b", "exec", "b", "ip", "-n", "c"}, "{netns=[a b]} rest=[exec b ip -n c] keep=[exec b ip -n c]"},
		{[]string{"-b", "f", "ignored"}, "{batch=f} rest=[ignored] keep=[-b f ignored]"},
		{[]string{"-force", "-batch", "-"}, "{force batch=-} rest=[] keep=[-force -batch -]"},
		{[]string{"-j", "--", "-x"}, "{json} rest=[-x] keep=[-j -- -x]"},
		{[]string{"-s", "-d", "-c", "-f", "inet", "-rc", "0x100", "l"}, "{} rest=[l] keep=[-s -d -c -f inet -rc 0x100 l]"},
		{[]string{"-", "netns", "list"}, "{} rest=[list] keep=[- netns list]"},
		{[]string{"-h", "-bogus"}, "{help} rest=[] keep=[]"},
		{[]string{"-V"}, "{version} rest=[] keep=[]"},
		{[]string{"-bogus"}, `error: option "-bogus" is unknown, try "netns -help"`},
		{[]string{"--bogus"}, `error: option "--bogus" is unknown, try "netns -help"`},
		{[]string{"-n"}, `error: option "-n" needs a value`},
		{[]string{"-batch"}, `error: option "-batch" needs a value`},
		{[]string{"-f", "bad"}, `error: invalid protocol family "bad"`},
		{[]string{"-f", "help"}, "error: usage"},
		{[]string{"-rcvbuf", "-1"}, `error: invalid rcvbuf size "-1"`},
	} {
		o, rest, keep, err := parseOptions(tc.args)
		got := fmt.Sprintf("%s rest=%v keep=%v", describe(o), rest, keep)
		if err != nil {
			got = "error: " + err.Error()
		}
		if got != tc.want {
			t.Errorf("parseOptions(%q):\ngot  %s\nwant %s", tc.args, got, tc.want)
		}
	}
}

func describe(o options) string {
	var f []string
	for _, b := range []struct {
		on   bool
		name string
	}{{o.all, "all"}, {o.json, "json"}, {o.pretty, "pretty"}, {o.force, "force"}, {o.help, "help"}, {o.version, "version"}} {
		if b.on {
			f = append(f, b.name)
		}
	}
	if o.isBatch {
		f = append(f, "batch="+o.batch)
	}
	if o.netns != nil {
		f = append(f, fmt.Sprintf("netns=%v", o.netns))
	}
	return "{" + strings.Join(f, " ") + "}"
}

func TestGetInteger(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want int
		ok   bool
	}{
		{"0", 0, true}, {"7", 7, true}, {"-3", -3, true}, {"+4", 4, true},
		{"0x10", 16, true}, {"0X1f", 31, true}, {"010", 8, true}, {" 5", 5, true}, {"\t\n12", 12, true},
		{"-0x10", -16, true}, {"2147483647", 2147483647, true}, {"-2147483648", -2147483648, true},
		{"", 0, false}, {" ", 0, false}, {"5 ", 0, false}, {"abc", 0, false}, {"0x", 0, false},
		{"0xg", 0, false}, {"08", 0, false}, {"1e3", 0, false}, {"2147483648", 0, false},
		{"99999999999999999999999", 0, false}, {"-", 0, false}, {"--1", 0, false},
	} {
		got, ok := getInteger(tc.s)
		if got != tc.want || ok != tc.ok {
			t.Errorf("getInteger(%q): got %d, %v, want %d, %v", tc.s, got, ok, tc.want, tc.ok)
		}
	}
	if v, ok := getUnsigned("4294967295"); !ok || v != 1<<32-1 {
		t.Errorf("getUnsigned(max): got %d, %v", v, ok)
	}
	if _, ok := getUnsigned("4294967296"); ok {
		t.Errorf("getUnsigned(max+1): got ok, want failure")
	}
}

func TestIsPID(t *testing.T) {
	for s, want := range map[string]bool{"123": true, "": true, "0": true, "12a": false, "-1": false, " 1": false, "self": false} {
		if got := isPID(s); got != want {
			t.Errorf("isPID(%q): got %v, want %v", s, got, want)
		}
	}
}

func TestSplitLine(t *testing.T) {
	for _, tc := range []struct {
		line string
		want []string
		err  error
	}{
		{"netns list\n", []string{"netns", "list"}, nil},
		{"  netns\t add \r x \n", []string{"netns", "add", "x"}, nil},
		{"", nil, nil},
		{" \t\n", nil, nil},
		{`netns add 'a b'`, []string{"netns", "add", "a b"}, nil},
		{`netns add "a 'b"x y`, []string{"netns", "add", "a 'b", "x", "y"}, nil},
		{`netns add a"b c"`, []string{"netns", "add", `a"b`, `c"`}, nil},
		{`netns add ''`, []string{"netns", "add", ""}, nil},
		{`netns add 'a`, nil, errUnterminated},
		{strings.Repeat("w ", 511), slices.Repeat([]string{"w"}, 511), nil},
		{strings.Repeat("w ", 512), nil, errTooManyArgs},
	} {
		got, err := splitLine(tc.line)
		if !slices.Equal(got, tc.want) || err != tc.err {
			t.Errorf("splitLine(%q): got %q, %v, want %q, %v", tc.line, got, err, tc.want, tc.err)
		}
	}
}

func TestLineReader(t *testing.T) {
	in := "netns add a # comment\n" +
		"# only a comment\n" +
		"\n" +
		"netns \\\nadd \\\nb\n" +
		"netns add c # comment \\\n" +
		"netns add d\x00junk\n" +
		"netns list"
	lr := &lineReader{r: bufio.NewReader(strings.NewReader(in))}
	var got []string
	for {
		words, err := lr.next()
		if err != nil {
			got = append(got, fmt.Sprintf("%d:%v", lr.n, err))
			break
		}
		got = append(got, fmt.Sprintf("%d:%q", lr.n, words))
	}
	want := []string{
		`1:["netns" "add" "a"]`, `2:[]`, `3:[]`, `6:["netns" "add" "b"]`,
		`7:["netns" "add" "c"]`, `8:["netns" "add" "d"]`, `9:["netns" "list"]`, `9:EOF`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	lr = &lineReader{r: bufio.NewReader(strings.NewReader("netns add \\\n"))}
	if _, err := lr.next(); err != errContinuation {
		t.Errorf("a continuation at EOF: got %v, want %v", err, errContinuation)
	}
}

func TestIsNetnsObject(t *testing.T) {
	for word, want := range map[string]bool{"netns": true, "netn": true, "net": true, "n": false, "ne": false, "netc": false, "netnsx": false, "": false, "link": false} {
		if got := isNetnsObject(word); got != want {
			t.Errorf("isNetnsObject(%q): got %v, want %v", word, got, want)
		}
	}
}

func TestJSONWriter(t *testing.T) {
	for _, pretty := range []bool{false, true} {
		var b bytes.Buffer
		w := bufio.NewWriter(&b)
		j := &jsonWriter{w: w, pretty: pretty}
		j.startArray()
		j.startObject()
		j.stringField("name", "a\t\"\\\x01ü")
		j.endObject()
		j.startObject()
		j.stringField("name", "b")
		j.intField("id", 7)
		j.endObject()
		j.endArray()
		w.Flush()
		want := "[{\"name\":\"a\\t\\\"\\\\\x01ü\"},{\"name\":\"b\",\"id\":7}]\n"
		if pretty {
			want = "[ {\n        \"name\": \"a\\t\\\"\\\\\x01ü\"\n    },{\n        \"name\": \"b\",\n        \"id\": 7\n    } ]\n"
		}
		if b.String() != want {
			t.Errorf("pretty=%v: got %q, want %q", pretty, b.String(), want)
		}
		b.Reset()
		j = &jsonWriter{w: w, pretty: pretty}
		j.startArray()
		j.endArray()
		w.Flush()
		if want := map[bool]string{false: "[]\n", true: "[ ]\n"}[pretty]; b.String() != want {
			t.Errorf("empty, pretty=%v: got %q, want %q", pretty, b.String(), want)
		}
	}
}

// TestRunWithoutRoot runs whole command lines that fail or finish before
// touching anything, in process.
func TestRunWithoutRoot(t *testing.T) {
	for _, tc := range []struct {
		args           []string
		code           int
		stdout, stderr string // prefixes
	}{
		{[]string{"-h"}, 0, "Usage:\tnetns", ""},
		{[]string{"--help", "add"}, 0, "Usage:\tnetns", ""},
		{[]string{"-V"}, 0, "netns utility, setns", ""},
		{[]string{"help"}, 255, "", "Usage:\tnetns"},
		{[]string{"-f", "help"}, 255, "", "Usage:\tnetns"},
		{[]string{"list-id", "bogus"}, 255, "", "Usage:\tnetns"},
		{[]string{"-bogus"}, 255, "", `netns: option "-bogus" is unknown`},
		{[]string{"bogus"}, 255, "", `netns: unknown command "bogus"`},
		{[]string{"add", "a/b"}, 255, "", `netns: invalid namespace name "a/b"`},
		{[]string{"add"}, 1, "", "netns: add: no namespace name given"},
		{[]string{"delete"}, 1, "", "netns: delete: no namespace name given"},
		{[]string{"set", "a"}, 1, "", "netns: set: no nsid given"},
		{[]string{"set", "a", "-3"}, 255, "", `netns: set: invalid nsid "-3"`},
		{[]string{"attach", "a", "0"}, 1, "", `netns: attach: invalid PID "0"`},
		{[]string{"identify", "abc"}, 1, "", `netns: identify: "abc" is not a PID`},
		{[]string{"pids", "a", "b"}, 1, "", "netns: pids: extra arguments"},
		{[]string{"exec", "a"}, 1, "", "netns: exec: no command given"},
		{[]string{"-all", "exec"}, 1, "", "netns: exec: no command given"},
		{[]string{"list-id", "nsid", "-1"}, 255, "", `netns: list-id: "nsid" value "-1" should be >= 0`},
		{[]string{"list-id", "nsid", "1", "nsid", "2"}, 255, "", `netns: list-id: duplicate "nsid"`},
		{[]string{"-batch", "/nonexistent"}, 1, "", "netns: batch: open /nonexistent"},
	} {
		var out, errb bytes.Buffer
		code := run(tc.args, strings.NewReader(""), &out, &errb)
		if code != tc.code || !strings.HasPrefix(out.String(), tc.stdout) || !strings.HasPrefix(errb.String(), tc.stderr) ||
			(tc.stdout == "") != (out.Len() == 0) || (tc.stderr == "") != (errb.Len() == 0) {
			t.Errorf("run(%q): got %d, stdout %q, stderr %q; want %d, %q..., %q...",
				tc.args, code, out.String(), errb.String(), tc.code, tc.stdout, tc.stderr)
		}
	}
}

// TestLookPathErrorIsTheCause: a command path that does not exist is
// reported as the cause alone; the caller's message names the path once
// ("exec \"/x\": no such file or directory", not "... stat /x: ...").
func TestLookPathErrorIsTheCause(t *testing.T) {
	for _, file := range []string{"/nonexistent/cmd", "./nonexistent-cmd", "nonexistent-cmd-xyz"} {
		_, err := lookPath(file)
		if err == nil {
			t.Fatalf("lookPath(%q) found something", file)
		}
		if strings.Contains(err.Error(), "nonexistent") {
			t.Errorf("lookPath(%q) = %q: names the path again", file, err)
		}
	}
}
