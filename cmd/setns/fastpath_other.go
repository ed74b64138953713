//go:build !cgo || !linux

package main

// fastPathBuilt tells the tests that fastpath.c is left out: no cgo.
const fastPathBuilt = false
