# api-hint.jq (jq -rnR, a program's stream): what to do about its first error
# record's code ($code instead, when not ""), on the API $api ("incidentio"
# or "strongdm"); $config, $prog: the config file, the wrapper's name.
# (Not first(): in jq 1.6 the try of fromjson? swallows its break.)
include "hints";
(if $code != "" then $code
 else [inputs | fromjson? | objects | select(.type == "error") | .code // empty][0] // "" end)
| api_hint($api; $config; $prog)
