//go:build cgo && linux

package rootless

// This file switches cgo on, so that join.c, the constructor that joins
// the keeper's namespaces before the Go runtime starts, is linked in.

// #cgo CFLAGS: -O2 -Wall -Wextra
import "C"

// joinBuilt tells whether join.c is linked in.
const joinBuilt = true
