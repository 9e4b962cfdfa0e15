#!/usr/bin/env bash
# reconcile-groups' --help, man page and README section agree: the same
# synopsis, and every option of each is in the others.
set -euo pipefail
. "$(dirname "$0")/../tap.sh"

MAN="$ROOT/man/reconcile-groups.1"
DOC="$T/readme-reconcile-groups.md"
readme_section reconcile-groups > "$DOC"
[[ -f $MAN && -s $DOC ]] || skip_all "man page or README section missing"
command -v groff >/dev/null || command -v man >/dev/null || skip_all "no groff/man"

help=$(reconcile-groups --help)
man_text=$(MANWIDTH=200 man -l "$MAN" 2>/dev/null | col -b)
synopsis_help=$(sed -n '/^$/q;p' <<<"$help" | sed 's/^usage: //; s/^ *//')
synopsis_man=$(awk '/^SYNOPSIS/ {on = 1; next} /^[A-Z]/ {on = 0} on && NF' <<<"$man_text" | sed 's/^ *//')
synopsis_doc=$(awk '/^```$/ && !done {if (on) {done = 1; on = 0} else on = 1; next} on' "$DOC")

is "$synopsis_man" "$synopsis_help" "man page SYNOPSIS = --help usage"
is "$synopsis_doc" "$synopsis_help" "README synopsis = --help usage"

opts() { grep -oE -- '(^|[ [,(`])--?[a-zA-Z][a-z-]*' | grep -oE -- '--?[a-zA-Z][a-z-]*' | sort -u; }
help_opts=$(opts <<<"$help")
man_opts=$(awk '/^OPTIONS/ {on = 1; next} /^[A-Z]/ {on = 0} on' <<<"$man_text" | opts)
doc_opts=$(grep '^| `' "$DOC" | opts)
is "$man_opts" "$help_opts" "the man page's OPTIONS are --help's"
is "$doc_opts" "$help_opts" "the README's option table is --help's"

for s in 0 1 2 3; do
	ok "exit status $s in the man page" grep -q "^       $s " <<<"$(awk '/^EXIT STATUS/ {on = 1; next} /^[A-Z]/ {on = 0} on' <<<"$man_text")"
done
in_both() { grep -q -- "$1" <<<"$man_text" && grep -q -- "$1" "$DOC"; }
for a in create_group rename_group add remove delete_group attach_role detach_role adopt_group release_group "done" planned failed held previous_name; do
	ok "'$a' in the man page and the README" in_both "$a"
done

done_testing
