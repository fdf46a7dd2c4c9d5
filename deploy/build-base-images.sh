#!/usr/bin/env bash
# Build local stand-ins for the official base images that Dockerfile_BE and
# Dockerfile_FE default to, for machines that cannot pull from Docker Hub:
#
#   local/python:3.11    ~ python:3.11-slim-bookworm
#   local/node:20        ~ node:20-bookworm-slim   (this machine's node and npm)
#   local/nginx:stable   ~ nginx:stable            (Debian's nginx)
#
# All three sit on a Debian bookworm minbase root made with debootstrap, plus this
# machine's CA bundle and pip/apt/npm registry settings (the registries may be
# reached through a proxy whose certificate only that bundle trusts).
#
# The debootstrap root is cached as a tarball (AIDETECT_BASE_CACHE, default
# /var/cache/aidetect-bases); everything after it is ordinary docker build layers,
# so a second run takes seconds. Builds use --network host.
#
# Usage: deploy/build-base-images.sh            (needs root, docker, debootstrap)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache_dir=${AIDETECT_BASE_CACHE:-/var/cache/aidetect-bases}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
minbase_tar="$cache_dir/$suite-minbase.tar"

log() { printf '[base-images] %s\n' "$*" >&2; }

# 1. Debian minbase root (cached tarball), imported once.
if [[ ! -s "$minbase_tar" ]]; then
  command -v debootstrap >/dev/null || { log "debootstrap is not installed"; exit 1; }
  mkdir -p "$cache_dir"
  root=$(mktemp -d "$cache_dir/root.XXXXXX")
  log "debootstrap $suite (minbase) from $mirror into $root"
  debootstrap --variant=minbase --include=ca-certificates "$suite" "$root" "$mirror" >"$cache_dir/debootstrap.log" 2>&1 \
    || { log "debootstrap failed, see $cache_dir/debootstrap.log"; tail -20 "$cache_dir/debootstrap.log" >&2; rm -rf "$root"; exit 1; }
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" --numeric-owner -cf "$minbase_tar.tmp" .
  mv "$minbase_tar.tmp" "$minbase_tar"
  rm -rf "$root"
fi
minbase_id=$(stat -c '%s-%Y' "$minbase_tar")
if [[ "$(docker image inspect -f '{{index .Config.Labels "aidetect.minbase"}}' local/debian-minbase:$suite 2>/dev/null || true)" != "$minbase_id" ]]; then
  log "importing $minbase_tar as local/debian-minbase:$suite"
  docker import --change "LABEL aidetect.minbase=$minbase_id" --change 'CMD ["bash"]' \
    "$minbase_tar" "local/debian-minbase:$suite" >/dev/null
fi

# 2. Registry settings of this machine, as a build context.
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/custom-ca" "$ctx/apt.conf.d"
cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$ctx/custom-ca/"
fi
# pip: the CA bundle, plus any remote index settings of this machine (local
# file:// indexes and find-links are host paths and are left out).
{
  echo '[global]'
  echo 'cert = /etc/ssl/certs/ca-certificates.crt'
  echo "timeout = ${PIP_DEFAULT_TIMEOUT:-120}"
  if command -v pip3 >/dev/null; then
    conf=$(pip3 config list 2>/dev/null || true)
    idx=$(sed -n "s/^[^=]*\.index-url='\(http[^']*\)'$/\1/p" <<<"$conf" | tail -1)
    [[ -n "$idx" ]] && echo "index-url = $idx"
    extra=$(sed -n "s/^[^=]*\.extra-index-url='\(.*\)'$/\1/p" <<<"$conf" | tr ' ' '\n' | grep '^http' | tr '\n' ' ' || true)
    [[ -n "${extra// /}" ]] && echo "extra-index-url = $extra"
  fi
  [[ "${PIP_INDEX_URL:-}" == http* ]] && echo "index-url = $PIP_INDEX_URL"
  true
} >"$ctx/pip.conf"
# apt: proxy and validity settings only (other host snippets are host-specific).
for f in /etc/apt/apt.conf /etc/apt/apt.conf.d/*; do
  [[ -f "$f" ]] || continue
  if grep -qiE 'Acquire::(https?::)?Proxy|Check-Valid-Until|Check-Date' "$f"; then
    cp "$f" "$ctx/apt.conf.d/90host-$(basename "$f")"
  fi
done
# npm: the registry this machine uses, and the CA bundle.
{
  reg=""
  command -v npm >/dev/null && reg=$(npm config get registry 2>/dev/null || true)
  echo "registry=${reg:-https://registry.npmjs.org/}"
  echo "cafile=/etc/ssl/certs/ca-certificates.crt"
  echo "fund=false"
  echo "audit=false"
  echo "update-notifier=false"
} >"$ctx/npmrc"

# 3. Node: this machine's node binary and npm.
node_bin=$(command -v node || true)
if [[ -z "$node_bin" ]]; then
  log "node is not installed on this machine: cannot make local/node:20"; exit 1
fi
node_bin=$(readlink -f "$node_bin")
npm_dir=""
for d in "$(dirname "$node_bin")/../lib/node_modules/npm" /usr/lib/node_modules/npm /usr/local/lib/node_modules/npm; do
  [[ -f "$d/bin/npm-cli.js" ]] && { npm_dir=$(readlink -f "$d"); break; }
done
[[ -n "$npm_dir" ]] || { log "npm not found next to $node_bin"; exit 1; }
node_id="$node_bin $(stat -c '%s-%Y' "$node_bin") $npm_dir $(stat -c '%s-%Y' "$npm_dir/package.json")"

# 4. Build, unless every image was already built from these very inputs (the docker
#    layer cache would find them too, but sending node's context takes a while).
inputs=$( { echo "$minbase_id $node_id"; cd "$ctx" && find . -type f | LC_ALL=C sort | xargs sha256sum; \
            sha256sum "$here"/base-images/*.Dockerfile; } | sha256sum | cut -c1-16)
images=("local/debian:$suite" local/python:3.11 local/nginx:stable local/node:20)
fresh=1
for image in "${images[@]}"; do
  [[ "$(docker image inspect -f '{{index .Config.Labels "aidetect.inputs"}}' "$image" 2>/dev/null || true)" == "$inputs" ]] || fresh=0
done
if [[ $fresh == 1 ]]; then
  log "up to date: ${images[*]}"
  exit 0
fi

build() { # tag dockerfile [context]
  local tag=$1 file=$2 context=${3:-$ctx}
  log "building $tag"
  docker build --network host -q --label "aidetect.inputs=$inputs" -t "$tag" \
    -f "$here/base-images/$file" --build-arg "DEBIAN_IMAGE=local/debian:$suite" "$context" >/dev/null
}
build "local/debian:$suite" debian.Dockerfile
build local/python:3.11 python.Dockerfile
build local/nginx:stable nginx.Dockerfile
nctx="$ctx/node-ctx"
mkdir -p "$nctx"
cp "$node_bin" "$nctx/node"
cp -a "$npm_dir" "$nctx/npm"
build local/node:20 node.Dockerfile "$nctx"

log "ready: ${images[*]}"
