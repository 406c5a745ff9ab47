#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Muppet Studio needs to build and test:
# WebKitGTK and GTK for the Tauri shell, Xvfb and WebKitWebDriver for the
# desktop tests, Python's pip and npm for the asset clients.
# Idempotent: does nothing when every package is installed. As root it runs
# apt-get; otherwise it prints the exact command and exits non-zero.
set -euo pipefail

packages=(
  libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev libayatana-appindicator3-dev libxdo-dev
  build-essential curl wget file libssl-dev pkg-config
  xvfb xauth imagemagick webkit2gtk-driver
  python3-pip
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# pip may come from a Python that is not Debian's; only require the package when no pip runs.
if python3 -m pip --version >/dev/null 2>&1; then
  missing=("${missing[@]/python3-pip/}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
if ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

line="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "Muppet Studio needs these system packages: ${missing[*]}" >&2
  echo "Install them as root, then run make again:" >&2
  echo "  sudo sh -c '$line'" >&2
  exit 1
fi
echo "installing system packages: ${missing[*]}" >&2
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
