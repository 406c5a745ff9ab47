#!/usr/bin/env bash
# Installs the tools the desktop end-to-end test (tests/tests/desktop.rs) needs and
# prints the path of tauri-driver on stdout. Idempotent: does nothing when the pinned
# version is already installed. tauri-driver goes into <repo>/.tools (git-ignored).
#
# WebKitWebDriver, which tauri-driver drives on Linux, comes from Debian's
# `webkit2gtk-driver` package; this script only checks that it is there.
set -euo pipefail

TAURI_DRIVER_VERSION="2.1.0"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$repo/.tools"
driver="$root/bin/tauri-driver"

installed_version() {
    # `cargo install --list` names what is in the root: "tauri-driver v2.1.0:".
    cargo install --list --root "$root" 2>/dev/null | sed -n 's/^tauri-driver v\([^:]*\):$/\1/p'
}

if [[ ! -x "$driver" || "$(installed_version)" != "$TAURI_DRIVER_VERSION" ]]; then
    echo "installing tauri-driver $TAURI_DRIVER_VERSION into $root (about a minute)" >&2
    cargo install tauri-driver --version "=$TAURI_DRIVER_VERSION" --locked --root "$root" >&2
fi

if ! command -v WebKitWebDriver >/dev/null 2>&1; then
    echo "warning: WebKitWebDriver is not on PATH; install it with: apt-get install webkit2gtk-driver" >&2
fi

echo "$driver"
