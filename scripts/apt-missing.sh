# Sourced by setup.sh and setup-package.sh: `install_missing PACKAGE...` installs, with
# apt, those of the given Debian packages that are not installed yet, and says what it
# does through the caller's `say`; `$SUDO` is the caller's (empty as root).
install_missing() {
  local missing=() p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${#missing[@]} Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    say "installed"
  else
    say "all $# Debian packages present"
  fi
}
