#!/usr/bin/env bash
# Installs the engines the tests start on loopback ports (Prometheus, VictoriaMetrics,
# PostgreSQL 15) from Debian's packages when missing and running as root; otherwise says what
# to install. Their packages start a system service on install unless policy-rc.d forbids it:
# one is put in place for the install (and removed after, when there was none). Test files run
# in parallel: one installs, the others wait for it.
set -euo pipefail
pkgs=()
[[ -x /usr/bin/prometheus ]] || pkgs+=(prometheus)
[[ -x /usr/bin/victoria-metrics ]] || pkgs+=(victoria-metrics)
[[ -x /usr/lib/postgresql/15/bin/initdb ]] || pkgs+=(postgresql-15)
[[ ${#pkgs[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  echo "the tests need Debian's ${pkgs[*]}: as root, printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && apt-get install -y --no-install-recommends ${pkgs[*]}" >&2
  exit 1
fi
exec 9>/tmp/vscope-ensure-engines.lock
flock 9
# Installed by another test file meanwhile?
pkgs=()
[[ -x /usr/bin/prometheus ]] || pkgs+=(prometheus)
[[ -x /usr/bin/victoria-metrics ]] || pkgs+=(victoria-metrics)
[[ -x /usr/lib/postgresql/15/bin/initdb ]] || pkgs+=(postgresql-15)
[[ ${#pkgs[@]} -eq 0 ]] && exit 0
echo "tests: installing ${pkgs[*]} (no services started)" >&2
made_policy=
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  made_policy=1
fi
(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}") >&2
if [[ -n $made_policy ]]; then rm -f /usr/sbin/policy-rc.d; fi
