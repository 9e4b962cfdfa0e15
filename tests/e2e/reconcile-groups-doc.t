#!/usr/bin/env bash
# reconcile-groups' --help and man page agree: the same synopsis, every
# option of each in the other, every action and status of a change record
# in the man page; the README points to the man page and repeats none of it.
set -euo pipefail
. "$(dirname "$0")/../tap.sh"

MAN="$ROOT/man/reconcile-groups.1"
[[ -f $MAN ]] || skip_all "man page missing"
command -v groff >/dev/null || command -v man >/dev/null || skip_all "no groff/man"

help=$(reconcile-groups --help)
man_text=$(MANWIDTH=200 man -l "$MAN" 2>/dev/null | col -b)
synopsis_help=$(sed -n '/^$/q;p' <<<"$help" | sed 's/^usage: //; s/^ *//')
synopsis_man=$(awk '/^SYNOPSIS/ {on = 1; next} /^[A-Z]/ {on = 0} on && NF' <<<"$man_text" | sed 's/^ *//')

is "$synopsis_man" "$synopsis_help" "man page SYNOPSIS = --help usage"
ok "the README points to man reconcile-groups" grep -q '`man reconcile-groups`' "$ROOT/README.md"

opts() { grep -oE -- '(^|[ [,(`])--?[a-zA-Z][a-z-]*' | grep -oE -- '--?[a-zA-Z][a-z-]*' | sort -u; }
help_opts=$(opts <<<"$help")
man_opts=$(awk '/^OPTIONS/ {on = 1; next} /^[A-Z]/ {on = 0} on' <<<"$man_text" | opts)
is "$man_opts" "$help_opts" "the man page's OPTIONS are --help's"
is "$(grep -c '^| `-' "$ROOT/README.md")" 0 "the README has no option table of its own: the man page is the reference"

for s in 0 1 2 3; do
	ok "exit status $s in the man page" grep -q "^       $s " <<<"$(awk '/^EXIT STATUS/ {on = 1; next} /^[A-Z]/ {on = 0} on' <<<"$man_text")"
done
in_man() { grep -q -- "$1" <<<"$man_text"; }
for a in create_group rename_group add remove delete_group attach_role detach_role adopt_group release_group "done" planned failed held previous_name; do
	ok "'$a' in the man page" in_man "$a"
done

done_testing
