package main

import (
	"errors"
	"fmt"
	"strings"
)

// options are the global options, given before the verb as to ip.
type options struct {
	all     bool     // -all: delete and exec act on every name
	json    bool     // -j: JSON output (list, list-id)
	pretty  bool     // -p: indented JSON
	force   bool     // -force: a batch goes on after a failed line
	batch   string   // -batch FILE, "-" for stdin
	isBatch bool     // -batch was given
	netns   []string // each -n NAME, in order: the last one wins
	help    bool     // -h, -help: usage on stdout
	version bool     // -V
}

// ipOptions is ip's option table (main in ip/ip.c), in its order: an
// option word is the first entry it is a prefix of, so "-b" is -batch,
// not -brief, and "-f" is -family, not -force. Options that change
// nothing for netns are accepted and ignored, so command lines written
// for ip work unchanged. exact entries are compared whole.
var ipOptions = []struct {
	name  string
	exact bool
	arg   bool // takes the next word as its value
}{
	{name: "-loops", arg: true},
	{name: "-family", arg: true},
	{name: "-4", exact: true},
	{name: "-6", exact: true},
	{name: "-0", exact: true},
	{name: "-M", exact: true},
	{name: "-B", exact: true},
	{name: "-human"},
	{name: "-human-readable"},
	{name: "-iec"},
	{name: "-stats"},
	{name: "-statistics"},
	{name: "-details"},
	{name: "-resolve"},
	{name: "-oneline"},
	{name: "-timestamp"},
	{name: "-tshort"},
	{name: "-Version"},
	{name: "-force"},
	{name: "-batch", arg: true},
	{name: "-brief"},
	{name: "-json"},
	{name: "-pretty"},
	{name: "-rcvbuf", arg: true},
	{name: "-color"}, // -color[=always|auto|never], see colorOption
	{name: "-help"},
	{name: "-netns", arg: true},
	{name: "-Numeric"},
	{name: "-all"},
	{name: "-echo", exact: true},
}

// resolveOption returns the ip option opt stands for, or "".
func resolveOption(opt string) (name string, arg bool) {
	if opt == "-h" {
		return "-help", false // a deliberate difference: ip's -h is -human
	}
	for _, o := range ipOptions {
		switch {
		case o.name == "-color":
			if colorOption(opt) {
				return o.name, false
			}
		case o.exact && opt == o.name, !o.exact && matches(opt, o.name):
			return o.name, o.arg
		}
	}
	return "", false
}

// colorOption is ip's matches_color: -c[olor] with an optional
// =always, =auto or =never.
func colorOption(opt string) bool {
	word, val, _ := strings.Cut(opt, "=")
	return matches(word, "-color") && (val == "" || val == "always" || val == "auto" || val == "never")
}

// errUsage is a bad command line; ip exits with 255 for all of them.
type errUsage struct{ msg string }

func (e *errUsage) Error() string { return e.msg }

// parseOptions reads the global options as ip does: until the first word
// that does not start with "-" (a leading "--" counts as "-", and "--"
// alone ends them). It returns the options, the words after them, and
// the command line without its -n options (for running again inside the
// namespace). It stops at -h and -V, as ip does; then, and on an error,
// o.netns holds the -n names that came before.
func parseOptions(args []string) (o options, rest, keep []string, err error) {
	i := 0
	for ; i < len(args); i++ {
		word := args[i]
		if word == "--" {
			keep = append(keep, word)
			i++
			break
		}
		if !strings.HasPrefix(word, "-") {
			break
		}
		opt := word
		if strings.HasPrefix(opt, "--") {
			opt = opt[1:]
		}
		name, hasArg := resolveOption(opt)
		if name == "" {
			return o, nil, nil, &errUsage{fmt.Sprintf("option %q is unknown, try \"netns -help\"", word)}
		}
		val := ""
		if hasArg {
			if i+1 >= len(args) {
				return o, nil, nil, &errUsage{fmt.Sprintf("option %q needs a value", word)}
			}
			i++
			val = args[i]
		}
		if name == "-netns" {
			o.netns = append(o.netns, val)
			continue
		}
		keep = append(keep, args[i-btoi(hasArg):i+1]...)
		if err := o.set(name, val); err != nil {
			return o, nil, nil, err
		}
		if o.help || o.version {
			return o, nil, nil, nil
		}
	}
	return o, args[i:], append(keep, args[i:]...), nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// set applies the option name (resolved by resolveOption) with value val.
func (o *options) set(name, val string) error {
	switch name {
	case "-all":
		o.all = true
	case "-json":
		o.json = true
	case "-pretty":
		o.pretty = true
	case "-force":
		o.force = true
	case "-batch":
		o.batch, o.isBatch = val, true
	case "-help":
		o.help = true
	case "-Version":
		o.version = true
	case "-family":
		switch val {
		case "inet", "inet6", "link", "mpls", "bridge": // read_family
		case "help":
			return errHelpUsage
		default:
			return &errUsage{fmt.Sprintf("invalid protocol family %q", val)}
		}
	case "-rcvbuf":
		if _, ok := getUnsigned(val); !ok {
			return &errUsage{fmt.Sprintf("invalid rcvbuf size %q", val)}
		}
	}
	return nil
}

// errHelpUsage asks for the usage on stderr with status 255, as
// "ip -family help" gives.
var errHelpUsage = errors.New("usage")
