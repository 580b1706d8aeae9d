#!/bin/sh
# Starts Debian's chromium with the managed policies of $ROR_POLICY_ROOT instead of the machine's:
# Debian's chromium reads them only from /etc/chromium/policies/managed (no command-line switch in
# its official build), so a private mount namespace binds the run's own folder over /etc/chromium
# for this process alone; the machine's files are never changed. Needs root (or CAP_SYS_ADMIN).
set -eu
: "${ROR_POLICY_ROOT:?the folder holding policies/managed/*.json}"
exec unshare --mount sh -c 'mount --bind "$ROR_POLICY_ROOT" /etc/chromium && exec /usr/bin/chromium "$@"' chromium "$@"
