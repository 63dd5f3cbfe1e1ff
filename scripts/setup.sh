#!/usr/bin/env bash
# Idempotent setup for a fresh Debian machine: installs the system packages that the
# build, the tests and the demo need, when they are missing, and prints what it does.
# Called by both README commands (`cargo xtask demo`, `cargo xtask test`); fast when
# everything is already present.
set -euo pipefail

say() { printf 'setup: %s\n' "$*"; }

CACHE="${MIMAMORI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mimamori}"
mkdir -p "$CACHE"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# Build: whisper.cpp (cmake, clang for bindgen), Slint (fontconfig, xkbcommon), audio, PC/SC.
# Tests and demo: pcscd + vpcd + OpenSC, Open JTalk, IPADIC (kana readings), the UD font, Xvfb + screenshots,
# cage + Xwayland (the tablet session on Wayland), PulseAudio null sink, Chromium for dashboard tests, a venv for faster-whisper.
PACKAGES=(
  build-essential cmake clang libclang-dev pkg-config
  libasound2-dev libpcsclite-dev libfontconfig1-dev libfreetype-dev libxkbcommon-dev
  libxkbcommon-x11-0 libx11-xcb1 libxcursor1 libxrandr2 libxi6
  pcscd vsmartcard-vpcd opensc
  open-jtalk open-jtalk-mecab-naist-jdic mecab-ipadic
  fonts-morisawa-bizud-gothic
  xvfb x11-utils xdotool imagemagick cage xwayland
  pulseaudio pulseaudio-utils libasound2-plugins sox
  chromium chromium-driver poppler-utils
  python3-venv python3-pip sqlite3 ca-certificates curl
)

# pcscd's post-install may try to start the service; there is no init here and tests
# start their own pcscd by PID, so a failing start is not an error.
. "$(dirname "$0")/apt-missing.sh"
install_missing "${PACKAGES[@]}"

# The Open JTalk male voice lives in Debian's contrib section, which a default machine
# does not enable. Fetch it with a private sources list so the machine's own apt
# configuration stays untouched.
VOICE_PKG=hts-voice-nitech-jp-atr503-m001
if ! dpkg-query -W -f='${Status}' "$VOICE_PKG" 2>/dev/null | grep -q 'install ok installed'; then
  say "fetching $VOICE_PKG from Debian contrib (private sources list)"
  codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")"
  # From the machine's own mirror (a town's mirror or proxy; no host is named here):
  # the first configured source of Debian's main packages for this release.
  source_line="$(apt-get indextargets --format '$(IDENTIFIER) $(COMPONENT) $(RELEASE) $(REPO_URI)' \
    | awk -v c="$codename" '$1 == "Packages" && $2 == "main" && $3 == c { print $4, $3; exit }')"
  if [ -z "$source_line" ]; then
    say "no apt source of Debian $codename main is configured: add the town's mirror to /etc/apt/sources.list.d/ and run again" >&2
    exit 1
  fi
  apt_dir="$CACHE/apt-contrib"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/debs"
  echo "deb $source_line contrib" > "$apt_dir/sources.list"
  say "contrib from the machine's source: $source_line"
  apt_opts=(
    -o "Dir::Etc::sourcelist=$apt_dir/sources.list"
    -o "Dir::Etc::sourceparts=-"
    -o "Dir::State::Lists=$apt_dir/lists"
    -o "APT::Get::List-Cleanup=0"
    -o "APT::Sandbox::User=root"
  )
  $SUDO apt-get "${apt_opts[@]}" update -qq
  (cd "$apt_dir/debs" && apt-get "${apt_opts[@]}" download "$VOICE_PKG" >/dev/null)
  $SUDO dpkg -i "$apt_dir"/debs/"$VOICE_PKG"_*.deb >/dev/null
  say "installed $VOICE_PKG"
fi

# The mail tests run a real SMTP server (tests/smtp/smtpd.py) on aiosmtpd, which Debian
# does not package at a fixed version: pin it in a private venv. `--clear` rebuilds a
# venv whose interpreter has gone away (a moved or removed Python) instead of reusing it.
SMTPD_VENV="$CACHE/venv-smtpd"
if ! "$SMTPD_VENV/bin/python" -c 'import aiosmtpd' 2>/dev/null; then
  say "installing aiosmtpd==1.4.6 into $SMTPD_VENV"
  python3 -m venv --clear "$SMTPD_VENV"
  "$SMTPD_VENV/bin/python" -m pip install -q --disable-pip-version-check 'aiosmtpd==1.4.6'
  say "installed aiosmtpd"
else
  say "aiosmtpd present ($SMTPD_VENV)"
fi

# The dashboard's accessibility audit injects axe-core (MPL-2.0) into Chromium: the
# npm package at a pinned version, checked against the registry's sha512 integrity
# before anything in it is used.
AXE_VERSION=4.14.1
AXE_SHA512='FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=='
AXE_DIR="$CACHE/axe-core-$AXE_VERSION"
if [ ! -s "$AXE_DIR/axe.min.js" ]; then
  # npm from the configured registry; Debian's npm only when none is installed (a
  # NodeSource nodejs carries its own and conflicts with Debian's).
  if ! command -v npm >/dev/null; then
    $SUDO apt-get install -y -qq npm >/dev/null
  fi
  say "fetching axe-core $AXE_VERSION"
  axe_tmp=$(mktemp -d)
  (cd "$axe_tmp" && npm pack --silent "axe-core@$AXE_VERSION" >/dev/null)
  got=$(python3 -c 'import base64,hashlib,sys; print(base64.b64encode(hashlib.sha512(open(sys.argv[1],"rb").read()).digest()).decode())' \
    "$axe_tmp/axe-core-$AXE_VERSION.tgz")
  if [ "$got" != "$AXE_SHA512" ]; then
    echo "setup: axe-core-$AXE_VERSION.tgz has sha512 $got, expected $AXE_SHA512" >&2
    exit 1
  fi
  tar -xzf "$axe_tmp/axe-core-$AXE_VERSION.tgz" -C "$axe_tmp" package/axe.min.js package/LICENSE
  mkdir -p "$AXE_DIR"
  mv "$axe_tmp/package/axe.min.js" "$axe_tmp/package/LICENSE" "$AXE_DIR/"
  rm -rf "$axe_tmp"
  say "installed axe-core in $AXE_DIR"
else
  say "axe-core present ($AXE_DIR)"
fi

say "done (cache: $CACHE)"
