// Package packaging has no code, only tests of what "make install" ships
// besides the Go packages: the installed file list, the man pages (they
// render without warnings and document exactly the options each command's
// -h prints, as README.md and each command's package doc comment must),
// the bash and zsh completions, the systemd unit, "go install
// ./cmd/...", and that the repository stands alone (HACKING.md holds its
// conventions; nothing cites an outside document).
package packaging
