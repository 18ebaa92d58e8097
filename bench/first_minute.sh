#!/usr/bin/env bash
# A newcomer's first minute: clone the repository afresh and time `make chat` until its first question is on screen.
#   bench/first_minute.sh [--cold] [REPOSITORY]   (default: the repository this script is in, at its checked-out commit)
# Prints the seconds to the first question and where they went: bootstrapping uv (once per machine), installing .venv
# from the runtime lock, starting the chat (from the command lines make echoes). Without --cold, with uv's and pip's
# caches as this machine has them. With --cold, first as on a new machine: empty caches (XDG_CACHE_HOME, UV_CACHE_DIR,
# PIP_CACHE_DIR) in a temporary folder, deleted after, so uv is bootstrapped and every package downloaded; then the
# warm case. Downloads make the cold figure vary: run it a few times.
set -euo pipefail
cold=no
[ "${1:-}" = --cold ] && { cold=yes; shift; }
repo=${1:-$(git -C "$(dirname "$0")" rev-parse --show-toplevel)}
dir=$(mktemp -d /tmp/first-minute.XXXXXX)
trap 'rm -rf "$dir"' EXIT
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
seconds() { printf '%d.%02d' $(( $1 / 1000 )) $(( $1 % 1000 / 10 )); }

# One fresh clone and one `make chat` in it, with the environment given (VAR=value ...); prints one line.
first_minute() {
  local label=$1 clone=$dir/clone-$1 start venv="" chat="" first="" end line uv_version uv_cached=no
  shift
  git clone --quiet "$repo" "$clone"
  uv_version=$(sed -n 's/^UV_VERSION := //p' "$clone/Makefile")
  env "$@" bash -c '[ -x "${XDG_CACHE_HOME:-$HOME/.cache}/ungebot/uv-'"$uv_version"'/bin/uv" ]' && uv_cached=yes
  start=$(now_ms)
  # make echoes each command before it runs it: the venv's first line ends the bootstrap, the chat's the install.
  # The first question is the first line of the chat that ends in a question mark.
  while IFS= read -r line; do
    case "$line" in
      "test -x .venv/bin/python"*) [ -n "$venv" ] || venv=$(now_ms) ;;
      *"bin/ungebot chat") [ -n "$chat" ] || chat=$(now_ms) ;;
      *\?) [ -n "$first" ] || first=$(now_ms) ;;
    esac
  done < <(cd "$clone" && env "$@" make --no-print-directory chat </dev/null 2>&1)
  end=$(now_ms)
  [ -n "$first" ] || { echo "no question seen: make chat failed" >&2; exit 1; }
  venv=${venv:-$start} chat=${chat:-$venv}
  echo "$label: first question after $(seconds $((first - start))) s (uv bootstrap $(seconds $((venv - start))) s," \
       "install $(seconds $((chat - venv))) s, chat start $(seconds $((first - chat))) s; make chat done after" \
       "$(seconds $((end - start))) s; uv already bootstrapped: $uv_cached)"
  if [ "$label" = cold ]; then
    echo "cold: caches grew to $(du -sh "$dir/cache" | cut -f1)"
  fi
  rm -rf "$clone"
}

if [ "$cold" = yes ]; then
  first_minute cold XDG_CACHE_HOME="$dir/cache" UV_CACHE_DIR="$dir/cache/uv" PIP_CACHE_DIR="$dir/cache/pip"
fi
first_minute warm
