#!/usr/bin/env bash
# Idempotent setup for `cargo xtask package` and `cargo xtask package-test`: cargo-deb,
# debootstrap (the install test's fresh root), and with `--arm64` the Debian cross
# toolchain, Debian's Rust for arm64 and the arm64 libraries the tablet links, plus
# qemu-user to run the result. Prints what it does; fast when all is present.
set -euo pipefail

say() { printf 'setup-package: %s\n' "$*"; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

CARGO_DEB_VERSION=3.8.0

PACKAGES=(debootstrap dpkg-dev binutils)
if [ "${1:-}" = "--arm64" ]; then
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    say "adding the arm64 architecture to dpkg"
    $SUDO dpkg --add-architecture arm64
    $SUDO apt-get update -qq
  fi
  # rustup here has no aarch64 std and cannot download one; Debian's rustc-web (1.96)
  # with its arm64 std is the cross compiler. libpcsclite-dev:arm64 cannot be installed
  # beside the amd64 one (its python3 dependency is not multi-arch), so only the arm64
  # library is installed and xtask links it by its full name.
  PACKAGES+=(
    crossbuild-essential-arm64 qemu-user-static rustc-web libstd-rust-web-dev:arm64
    libasound2-dev:arm64 libfontconfig-dev:arm64 libfreetype-dev:arm64 libxkbcommon-dev:arm64
    libpcsclite1:arm64
  )
fi

. "$(dirname "$0")/apt-missing.sh"
install_missing "${PACKAGES[@]}"

if ! cargo deb --version 2>/dev/null | grep -q "$CARGO_DEB_VERSION"; then
  say "installing cargo-deb $CARGO_DEB_VERSION from crates.io"
  cargo install cargo-deb --version "$CARGO_DEB_VERSION" --locked --quiet
fi
say "cargo-deb $(cargo deb --version | awk '{print $2}')"
