# api-hint.jq (jq -rnR, a program's stream): what to do about its first error
# record's code ($code instead, when not ""), on the API $api ("incidentio"
# or "strongdm"); $config, $prog: the config file, the wrapper's name.
include "hints";
(if $code != "" then $code
 else first(inputs | fromjson? | objects | select(.type == "error") | .code // empty) // "" end)
| api_hint($api; $config; $prog)
