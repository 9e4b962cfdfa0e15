# esc.jq: text from outside (schedule and user names, emails, servers'
# messages) escaped for printing, as the programs escape their messages: a
# newline as \n, any other control character as \u001b and the like (C1
# controls and U+2028/U+2029 too), a backslash as \\, so that it can never
# forge a line of the journal or last/stderr.log. A double quote is kept.
# esc: one string. esc_raw: every string of a record still in JSON text (a
# line read with -R, before fromjson): each escape \X becomes \\X, so that
# the parsed strings hold the escapes themselves; far cheaper than walking
# the records. esc_ctl: esc, but a backslash kept as it is (for a whole
# message that the programs escaped already: not escaped twice).
def _hex4: [(. / 4096 | floor) % 16, (. / 256 | floor) % 16, (. / 16 | floor) % 16, . % 16]
  | map("0123456789abcdef"[.:. + 1]) | join("");
def _c1($pre): if utf8bytelength == length then .
  else gsub("(?<c>[\u0080-\u009f\u2028\u2029])"; "\($pre)u\(.c | explode[0] | _hex4)") end;
def esc: tostring | tojson | .[1:-1] | gsub("\\\\\""; "\"") | _c1("\\");
def esc_raw: (if index("\\") then gsub("\\\\(?<x>[\\\\/bfnrt]|u[0-9a-fA-F]{4})";
    "\\\\\(if .x == "\\" then "\\" else "" end)\(.x)") else . end)
  | _c1("\\\\");
def esc_ctl: esc | gsub("\\\\\\\\"; "\\");
