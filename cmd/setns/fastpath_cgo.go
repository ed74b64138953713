//go:build cgo && linux && (amd64 || arm64)

package main

// This file only switches cgo on for setns, so that fastpath.c, a C
// constructor that runs before the Go runtime, is linked in. Built with
// CGO_ENABLED=0, setns leaves it out and the Go path does all the work.

// #cgo CFLAGS: -O2 -Wall -Wextra -Wno-unused-parameter
import "C"

// fastPathBuilt tells the tests that fastpath.c is linked in.
const fastPathBuilt = true
