# zsh complete.zsh FPATH_DIR LINE: print, one per line, the matches zsh's
# completion offers for LINE followed by TAB, with the functions in
# FPATH_DIR first in fpath. It runs an interactive zsh on a pseudo-terminal
# (zpty), since completion functions only run inside the line editor, and
# wraps compadd to report each match it adds, with the prefixes (-P, -p)
# shown before it. No comments inside the quoted lines: the interactive zsh
# would take "#" as a word.
zmodload zsh/zpty || exit 1
zpty z env TERM=xterm zsh -f -i || exit 1
zpty -w z "fpath=(${(q)1} \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z 'bindkey "^I" complete-word; unsetopt autolist'
zpty -w z 'compadd() {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi
  local -a hits hp ap; builtin compadd -A hits "$@"
  zparseopts -E p:=hp P:=ap
  local h; for h in $hits; do
    print -r -- "<M>$IPREFIX${(j::)ap#-P}${(j::)hp#-p}$h</M>" >/dev/tty
  done
  builtin compadd "$@"
}'
zpty -w z 'comppostfuncs=(_done); _done() { print -r -- "<DONE>" >/dev/tty; }'
zpty -w z 'print -r -- "<READY>"'
# Wait for the setup to finish: "<READY>" twice (the echoed command, then
# its output) before typing the line.
out= chunk=
for i in {1..500}; do
  while zpty -r -t z chunk; do out+=$chunk; done
  [[ $out == *'<READY>'*'<READY>'* ]] && break
  sleep 0.02
done
zpty -w -n z "$2"$'\t'
out=
for i in {1..500}; do
  while zpty -r -t z chunk; do out+=$chunk; done
  [[ $out == *'<DONE>'* ]] && break
  sleep 0.02
done
zpty -d z
[[ $out == *'<DONE>'* ]] || { print -u2 "no completion finished for: $2"; exit 1; }
print -rl -- ${(u)${(M)${(s:</M>:)out}:#*<M>*}##*<M>}
