#!/usr/bin/env bash
# Makes (once) a fresh Debian root for the install test: `debootstrap --variant=minbase`
# of this machine's release from this machine's own apt source (a town's mirror or
# proxy; no host is named here), with contrib (the male voice) and the security suite.
# Usage: package-root.sh DIR. Leaves DIR/.complete when done; a half-made root is
# removed and made again.
set -euo pipefail
say() { printf 'package-root: %s\n' "$*"; }

root="${1:?usage: package-root.sh DIR}"
if [ -f "$root/.complete" ]; then
  say "reusing $root"
  exit 0
fi
if [ -e "$root" ]; then
  # A leftover mount would make rm reach the host's /dev: refuse instead.
  if findmnt -rn -o TARGET | grep -q "^$(realpath "$root")/"; then
    say "$root has mounts; unmount them first" >&2
    exit 1
  fi
  rm -rf --one-file-system "$root"
fi

codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")"
pick() { # pick RELEASE: the machine's source of Debian main for that release
  apt-get indextargets --format '$(IDENTIFIER) $(COMPONENT) $(RELEASE) $(REPO_URI)' \
    | awk -v r="$1" '$1 == "Packages" && $2 == "main" && $3 == r { print $4; exit }'
}
mirror="$(pick "$codename")"
security="$(pick "$codename-security")"
if [ -z "$mirror" ]; then
  say "no apt source of Debian $codename main is configured (run apt-get update?)" >&2
  exit 1
fi
say "debootstrap $codename from $mirror"
mkdir -p "$root"
started=$SECONDS
debootstrap --variant=minbase --components=main,contrib \
  --include=ca-certificates,sqlite3,curl,adduser \
  --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
  "$codename" "$root" "$mirror" >"$root.log" 2>&1 || { tail -20 "$root.log" >&2; exit 1; }
{
  echo "deb $mirror $codename main contrib"
  echo "deb $mirror $codename-updates main contrib"
  if [ -n "$security" ]; then echo "deb $security $codename-security main contrib"; fi
} >"$root/etc/apt/sources.list"
touch "$root/.complete"
say "made $root in $((SECONDS - started)) s ($(du -sh --one-file-system "$root" | cut -f1))"
