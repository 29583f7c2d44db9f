#!/bin/sh
# Container entry point. First start: create the node home from the EWP_* variables (keys included).
# "serve" (the default): bring the database schema up to date, then serve on 0.0.0.0:8080.
# Anything else is an ewp-node command: e.g. "import /var/lib/ewp-node/home catalogue.csv".
set -eu
home="${EWP_NODE_HOME:?EWP_NODE_HOME is not set}"
if [ ! -f "$home/ewp-node.toml" ]; then
  ewp-node init "$home" \
    --hei-id "${EWP_HEI_ID:?set EWP_HEI_ID (the SCHAC id, e.g. uni.example.eu)}" \
    --hei-name "${EWP_HEI_NAME:?set EWP_HEI_NAME}" \
    --base-url "${EWP_BASE_URL:?set EWP_BASE_URL (the public https URL)}" \
    --admin-email "${EWP_ADMIN_EMAIL:?set EWP_ADMIN_EMAIL (published as the technical contact)}" \
    ${EWP_REGISTRY_URL:+--registry-url "$EWP_REGISTRY_URL"} \
    ${EWP_NODE_DATABASE_URL:+--database-url "$EWP_NODE_DATABASE_URL"}
fi
if [ "${1:-serve}" = serve ]; then
  ewp-node migrate "$home"
  exec ewp-node serve "$home" --bind 0.0.0.0:8080
fi
exec ewp-node "$@"
