//go:build !cgo || !linux

package rootless

const joinBuilt = false
