//go:build !cgo || !linux || !(amd64 || arm64)

package main

// fastPathBuilt tells the tests that fastpath.c is left out: no cgo.
const fastPathBuilt = false
