#!/usr/bin/env bash
# Prints the path of a Chromium for the browser tests, installing Debian's package when
# missing and running as root; otherwise says what to install.
set -euo pipefail
if [[ -n "${VSCOPE_CHROMIUM:-}" ]]; then echo "$VSCOPE_CHROMIUM"; exit 0; fi
if [[ -x /usr/bin/chromium ]]; then echo /usr/bin/chromium; exit 0; fi
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "browser tests: installing Debian's chromium" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >&2
  echo /usr/bin/chromium; exit 0
fi
echo "browser tests need Chromium: run as root 'apt-get install -y chromium' or set VSCOPE_CHROMIUM" >&2
exit 1
