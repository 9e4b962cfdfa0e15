# hints.jq: what an operator should do, by the machine-readable codes the
# programs write (see "Record formats" in oncall-sync(1)), never by their
# prose. $config and $prog: the config file and the wrapper's name.

# api_hint($api; $config; $prog), on an error code (a string): $api is
# "incidentio" or "strongdm"; the lines of advice, none for a code with
# nothing to add.
def api_hint($api; $config; $prog):
  . as $code
  | ($ENV.INCIDENT_API_URL // "" | if . == "" then "https://api.incident.io" else . end) as $iio
  | ($ENV.SDM_API_HOST // "" | if . == "" then "app.strongdm.com:443" else . end) as $sdm
  | if $api == "incidentio" then
      {unauthenticated: ["incident.io did not accept the API key: it is mistyped, revoked or was regenerated.",
                         "Create a key in incident.io (Settings > API keys) and put it in INCIDENT_API_KEY_FILE."],
       permission_denied: ["The incident.io API key lacks a permission: it needs to view schedules (schedules.view)",
                           "and to view users (users.view). Edit the key's permissions in Settings > API keys."],
       unavailable: ["incident.io could not be reached or answered with errors: check INCIDENT_API_URL",
                     "(\($iio)), DNS and proxies, and try again."],
       not_found: ["Check the schedule in \($config) against '\($prog) schedules' (give its id)."]}
      | .rate_limited = .unavailable | .ambiguous = .not_found
    else
      {unauthenticated: ["StrongDM did not accept the API key pair: check SDM_API_ACCESS_KEY(_FILE) and",
                         "SDM_API_SECRET_KEY(_FILE) (Settings > Admin Tokens > API keys in the Admin UI)."],
       permission_denied: ["The StrongDM API key lacks a permission. It needs user:list, group:read, group:write,",
                           "accountgroup:read, accountgroup:write (and identityset:read, identityalias:read for",
                           "identity-alias lookup). Create a key with them in Settings > Admin Tokens."],
       unavailable: ["StrongDM could not be reached or answered with errors: check SDM_API_HOST",
                     "(\($sdm)), DNS and proxies, and try again."],
       invalid: ["Check the key files and identity_set in \($config) (an identity set must exist: Principals > Identity Aliases)."]}
      | .rate_limited = .unavailable
    end
  | .[$code // ""] // [] | .[];

# unmatched_fault: whether an unmatched person is a fault to fix (true) or a
# warning: one with no StrongDM user, or a suspended one, is simply not
# given access, as StrongDM's own integration treats it.
def unmatched_fault: (.reason // "") | IN("no_user", "suspended") | not;

# unmatched_hint($lookup; $idset; $prog), on an oncall entry of a matched roster:
# why it matches no StrongDM user, and what to check, by its reason.
def unmatched_hint($lookup; $idset; $prog):
  if .reason == "suspended" then
    "their StrongDM user is suspended: reactivate it (Principals > Users) if they should get access"
  elif .reason == "no_email" then
    "incident.io has no email for them: add one in incident.io, or set user_lookup to",
    "\"identity-alias\" and give them an identity alias"
  elif .reason == "no_alias" or .reason == "no_id" then
    "confirm they exist in StrongDM and have an identity alias in the set \"\($idset)\"",
    "whose username is exactly their incident.io id: \(.id // "?")"
  elif .reason == "ambiguous" and $lookup == "identity-alias" then
    "several aliases in the identity set \"\($idset)\" have their incident.io id; keep one"
  elif .reason == "ambiguous" then
    "several StrongDM users have this email; keep one (Principals > Users)"
  elif .reason == "not_a_user" then
    "their identity alias names a service account or token, not a user"
  elif .reason == "failed" then
    "StrongDM could not be read for them: the sync's error says why ('\($prog) status')"
  else
    "confirm the user exists in StrongDM (Principals > Users) with the email \(.email // "?"):",
    "it must equal their incident.io email (case and surrounding spaces are ignored);",
    "or match by identity alias (user_lookup \"identity-alias\")"
  end;
