#!/usr/bin/env bash
# A newcomer's first minute: clone the repository afresh and time `make chat` until its first question is on screen.
#   bench/first_minute.sh [REPOSITORY]      (default: the repository this script is in, at its checked-out commit)
# Prints the seconds to the first question; the install is what it measures (uv's caches as this machine has them).
set -euo pipefail
repo=${1:-$(git -C "$(dirname "$0")" rev-parse --show-toplevel)}
dir=$(mktemp -d /tmp/first-minute.XXXXXX)
trap 'rm -rf "$dir"' EXIT
git clone --quiet "$repo" "$dir/clone"
cd "$dir/clone"
uv_cached=no
uv_version=$(sed -n 's/^UV_VERSION := //p' Makefile)
[ -x "${XDG_CACHE_HOME:-$HOME/.cache}/ungebot/uv-$uv_version/bin/uv" ] && uv_cached=yes
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
start=$(now_ms)
first=""
# The first question is the first line of the chat that ends in a question mark.
while IFS= read -r line; do
  if [ -z "$first" ] && [[ "$line" == *\? ]]; then
    first=$(now_ms)
  fi
done < <(make --no-print-directory chat </dev/null 2>&1)
end=$(now_ms)
[ -n "$first" ] || { echo "no question seen: make chat failed" >&2; exit 1; }
seconds() { printf '%d.%02d' $(( $1 / 1000 )) $(( $1 % 1000 / 10 )); }
echo "first question after $(seconds $((first - start))) s (make chat done after $(seconds $((end - start))) s;" \
     "uv already bootstrapped on this machine: $uv_cached)"
