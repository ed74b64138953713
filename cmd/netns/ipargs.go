package main

import (
	"strings"
)

// This file holds iproute2's argument conventions, copied exactly so that
// the same words mean the same thing to netns as to ip.

// matches reports whether word is a non-empty prefix of keyword, the test
// iproute2 uses for verbs and options (matches() in lib/utils.c, with the
// opposite sense). It is case-sensitive.
func matches(word, keyword string) bool {
	return word != "" && strings.HasPrefix(keyword, word)
}

// getInteger parses s as iproute2's get_integer and get_s32 do, with
// strtol(3) in base 0: leading white space, an optional sign, then "0x"
// for hexadecimal, "0" for octal or decimal digits, and nothing after
// them. The value must fit a C int.
func getInteger(s string) (int, bool) {
	v, rest, ok := strtol(s)
	if !ok || rest != "" || v < -1<<31 || v > 1<<31-1 {
		return 0, false
	}
	return int(v), true
}

// getUnsigned is get_unsigned: strtoul(3) in base 0, fitting a C unsigned.
func getUnsigned(s string) (uint32, bool) {
	v, rest, ok := strtol(s)
	if !ok || rest != "" || v < 0 || v > 1<<32-1 {
		return 0, false
	}
	return uint32(v), true
}

// strtol is strtol(3) with base 0. ok is false when no digits were found;
// rest is what follows the number. Values beyond int64 saturate.
func strtol(s string) (v int64, rest string, ok bool) {
	i := 0
	for i < len(s) && strings.IndexByte(" \t\n\v\f\r", s[i]) >= 0 {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	base := int64(10)
	switch {
	case i+2 < len(s) && (s[i:i+2] == "0x" || s[i:i+2] == "0X") && digit(s[i+2], 16) >= 0:
		base, i = 16, i+2
	case i < len(s) && s[i] == '0':
		base = 8
	}
	start := i
	for ; i < len(s); i++ {
		d := digit(s[i], base)
		if d < 0 {
			break
		}
		if v > (1<<63-1-d)/base {
			v = 1<<63 - 1 // saturate, as strtol does with ERANGE
			continue
		}
		v = v*base + d
	}
	if i == start {
		return 0, s, false
	}
	if neg {
		v = -v
	}
	return v, s[i:], true
}

// digit returns the value of c as a digit in base, or -1.
func digit(c byte, base int64) int64 {
	var d int64
	switch {
	case '0' <= c && c <= '9':
		d = int64(c - '0')
	case 'a' <= c && c <= 'z':
		d = int64(c-'a') + 10
	case 'A' <= c && c <= 'Z':
		d = int64(c-'A') + 10
	default:
		return -1
	}
	if d >= base {
		return -1
	}
	return d
}

// isPID is ip's is_pid: every byte a decimal digit (so "" is one).
func isPID(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// splitLine splits a batch line into words as iproute2's makeargs does:
// words are separated by space, TAB, CR or LF; a word that starts with '
// or " runs to the next such quote (no escapes), and the quote closing it
// also ends it. It fails on an unterminated quote and beyond maxArgs-1
// words, where ip exits.
func splitLine(line string) ([]string, error) {
	const ws = " \t\r\n"
	var args []string
	for i := 0; i < len(line); {
		for i < len(line) && strings.IndexByte(ws, line[i]) >= 0 {
			i++
		}
		if i == len(line) {
			break
		}
		if len(args) >= maxArgs-1 {
			return nil, errTooManyArgs
		}
		if q := line[i]; q == '\'' || q == '"' {
			j := strings.IndexByte(line[i+1:], q)
			if j < 0 {
				return nil, errUnterminated
			}
			args = append(args, line[i+1:i+1+j])
			i += j + 2
			continue
		}
		j := strings.IndexAny(line[i:], ws)
		if j < 0 {
			args = append(args, line[i:])
			break
		}
		args = append(args, line[i:i+j])
		i += j + 1
	}
	return args, nil
}
