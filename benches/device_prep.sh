#!/usr/bin/env bash
# Puts what benches/device.sh needs on a device machine into two folders that git ignores:
# .dev/ (the release binaries, GNU time) and .gl/ (the Vulkan loader's Debian packages).
# Run from the repository root after `cargo build --release --bins --examples`.
set -euo pipefail
mkdir -p .git/info .dev .gl /tmp/amd64/partial
for p in /.dev/ /.gl/; do grep -qx "$p" .git/info/exclude 2>/dev/null || echo "$p" >> .git/info/exclude; done
cp target/release/gammaflow target/release/examples/search_quality .dev/
# The release profile keeps debug info (for perf); the device copies need none of it.
strip .dev/gammaflow .dev/search_quality
[ -x /usr/bin/time ] && cp /usr/bin/time .dev/time
if ! ls .gl/libvulkan1_*.deb > /dev/null 2>&1; then
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  # shellcheck disable=SC2086
  apt-get $o update > /dev/null
  # shellcheck disable=SC2086
  (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi
du -sh .dev .gl
