#!/bin/sh
# Installs the claudemesh binary for this machine from a release folder:
#   curl -fsSL <base-url>/install.sh | sh
# CLAUDEMESH_RELEASE_URL overrides where binaries are downloaded from, CLAUDEMESH_INSTALL_DIR where the
# binary goes (default ~/.local/bin). The download is checked against the release's SHA256SUMS.
set -eu

base_url="${CLAUDEMESH_RELEASE_URL:-@BASE_URL@}"
install_dir="${CLAUDEMESH_INSTALL_DIR:-$HOME/.local/bin}"

fail() { echo "claudemesh install: $*" >&2; exit 1; }

[ -n "$base_url" ] || fail "no download location: set CLAUDEMESH_RELEASE_URL to the release folder's URL"

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  MINGW* | MSYS* | CYGWIN*) os=windows ;;
  *) fail "unsupported OS $(uname -s) (linux, darwin and windows are built)" ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) fail "unsupported CPU $(uname -m) (x64 and arm64 are built)" ;;
esac
exe=""
[ "$os" = windows ] && exe=".exe"
name="claudemesh-$os-$arch$exe"

if command -v curl >/dev/null 2>&1; then
  fetch() { curl -fsSL "$1" -o "$2"; }
elif command -v wget >/dev/null 2>&1; then
  fetch() { wget -q "$1" -O "$2"; }
else
  fail "needs curl or wget"
fi
if command -v sha256sum >/dev/null 2>&1; then
  sha256() { sha256sum "$1" | cut -d' ' -f1; }
elif command -v shasum >/dev/null 2>&1; then
  sha256() { shasum -a 256 "$1" | cut -d' ' -f1; }
else
  fail "needs sha256sum or shasum to verify the download"
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT INT TERM
fetch "$base_url/SHA256SUMS" "$tmp/SHA256SUMS" || fail "could not download $base_url/SHA256SUMS"
expected="$(awk -v n="$name" '$2 == n { print $1 }' "$tmp/SHA256SUMS")"
[ -n "$expected" ] || fail "this release has no $name"
fetch "$base_url/$name" "$tmp/$name" || fail "could not download $base_url/$name"
actual="$(sha256 "$tmp/$name")"
[ "$actual" = "$expected" ] || fail "checksum mismatch for $name (expected $expected, got $actual); nothing was installed"

mkdir -p "$install_dir"
chmod 755 "$tmp/$name"
mv "$tmp/$name" "$install_dir/claudemesh$exe"
echo "installed $("$install_dir/claudemesh$exe" --version 2>/dev/null || echo claudemesh) to $install_dir/claudemesh$exe"
case ":$PATH:" in
  *":$install_dir:"*) ;;
  *) echo "add $install_dir to your PATH, e.g.: echo 'export PATH=\"$install_dir:\$PATH\"' >> ~/.profile" ;;
esac
