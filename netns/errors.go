package netns

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Error records a failed operation on a named or path-addressed namespace.
// It unwraps to the cause, so errors.Is works with fs.ErrNotExist,
// fs.ErrExist, fs.ErrPermission, ErrNotNamespace and ErrInvalidName.
type Error struct {
	Op   string // "open", "create", "delete", "enter", "exec", ...
	Name string // namespace name or path
	Err  error  // underlying cause
}

func (e *Error) Error() string { return fmt.Sprintf("%s %q: %v", e.Op, e.Name, e.Err) }

func (e *Error) Unwrap() error { return e.Err }

var (
	// ErrNotNamespace is returned when a file exists but is not a network
	// namespace: a placeholder left by a create that never finished, a
	// junk file, a directory or a symlink in the run directory.
	ErrNotNamespace = errors.New("not a network namespace")

	// ErrInvalidName is returned for names ip(8) also rejects: empty,
	// longer than 255 bytes, containing "/", or "." or "..". A NUL byte is
	// rejected too.
	ErrInvalidName = errors.New("invalid namespace name")

	// ErrNotSupported is returned on systems without network namespaces.
	ErrNotSupported = errors.New("network namespaces are not supported")
)

// newError builds an *Error. An *os.PathError cause is replaced by its inner
// error, so the path and operation are not printed twice; the namespace
// name already says which file it was.
func newError(op, name string, err error) *Error {
	return &Error{Op: op, Name: name, Err: unwrapPath(err)}
}

// notNamespace explains why a file is not a namespace, keeping
// ErrNotNamespace in the chain.
type notNamespace struct{ what string }

func (e *notNamespace) Error() string { return "not a network namespace (" + e.what + ")" }
func (e *notNamespace) Unwrap() error { return ErrNotNamespace }

// Hint returns a short suggestion for err, such as "are you root?" for a
// permission error, or "" when there is none. Commands append it in
// parentheses to their one-line message.
func Hint(err error) string {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return "are you root?"
	case errors.Is(err, ErrNotNamespace) && !errors.As(err, new(*stalePlaceholder)):
		return "see 'netns doctor'" // a stale placeholder's error names its fix itself
	}
	return ""
}

// unwrapPath returns the inner error of an *os.PathError, else err.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
