#!/usr/bin/env bash
# Builds the bundled vCenter simulator (tools/vcsim) once into .cache/vcsim/vcsim and
# prints the path of the binary to use. Reuses, in order: $VSCOPE_VCSIM, a `vcsim` on
# PATH, an up-to-date cached build. Installs the Debian packages it needs when missing
# and running as root; otherwise says exactly what to install.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
src="$root/tools/vcsim"
out="$root/.cache/vcsim/vcsim"
gopath=/usr/share/gocode

if [[ -n "${VSCOPE_VCSIM:-}" ]]; then
  [[ -x "$VSCOPE_VCSIM" ]] || { echo "VSCOPE_VCSIM=$VSCOPE_VCSIM is not an executable file" >&2; exit 1; }
  echo "$VSCOPE_VCSIM"; exit 0
fi
if command -v vcsim >/dev/null 2>&1; then
  command -v vcsim; exit 0
fi

up_to_date() {
  [[ -x "$out" && -z "$(find "$src" -name '*.go' -newer "$out" 2>/dev/null | head -n 1)" ]]
}
if up_to_date; then
  echo "$out"; exit 0
fi

# Test files start in parallel: one builds, the others wait for it and reuse its binary.
mkdir -p "$(dirname "$out")"
exec 9>"$out.lock"
flock 9
if up_to_date; then
  echo "$out"; exit 0
fi

if ! command -v go >/dev/null 2>&1 || [[ ! -d "$gopath/src/github.com/vmware/govmomi/simulator" ]]; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "vcsim: installing golang-go and golang-github-vmware-govmomi-dev" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go golang-github-vmware-govmomi-dev) >&2
  else
    echo "vcsim: the simulator needs Go and govmomi; run as root:" >&2
    echo "  apt-get install -y golang-go golang-github-vmware-govmomi-dev" >&2
    exit 1
  fi
fi

echo "vcsim: building the simulator (about 30 s, once)" >&2
(cd "$src" && GOPATH=$gopath GO111MODULE=off GOFLAGS= GOCACHE="$root/.cache/go-build" go build -o "$out.tmp" .) >&2
mv "$out.tmp" "$out"
echo "$out"
