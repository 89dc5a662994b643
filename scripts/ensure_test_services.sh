#!/usr/bin/env bash
# Install what the test suite starts by itself when it is missing: Debian's dovecot-imapd (the
# IMAP server of the e-mail intake tests) and chromium (the browser tests). Idempotent; only
# installs as root with apt-get; never starts a system service (the tests start their own).
set -uo pipefail
missing=()
[[ -x /usr/sbin/dovecot ]] || missing+=(dovecot-imapd)
command -v chromium >/dev/null || missing+=(chromium)
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    echo "ensure_test_services: missing ${missing[*]} (install them; their tests will skip)" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d 101: the packages install without starting their daemons.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
fi
if ! apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
        || echo "ensure_test_services: could not install ${missing[*]}" >&2
fi
[[ $created_policy -eq 1 ]] && rm -f "$policy"
exit 0
