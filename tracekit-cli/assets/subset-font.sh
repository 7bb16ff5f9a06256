#!/bin/sh
# Rebuilds DejaVuSans-subset.ttf, the font that PNG plots are drawn with.
#
# Input: DejaVuSans.ttf from the DejaVu fonts 2.37 release (Debian package
# fonts-dejavu-core installs it under /usr/share/fonts/truetype/dejavu/).
# Needs fontTools (`pip install fonttools`) for pyftsubset.
#
# Kept: printable ASCII, Latin-1 (µ, °, ×, ·), dashes, the ellipsis, the
# minus sign and arrows. No hinting: the plots are drawn antialiased.
set -eu
src=${1:-/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf}
here=$(dirname "$0")
pyftsubset "$src" \
    --unicodes="U+0020-007E,U+00A0-00FF,U+2013-2014,U+2026,U+2190-2193,U+2212" \
    --no-hinting \
    --layout-features='' \
    --name-IDs='*' \
    --output-file="$here/DejaVuSans-subset.ttf"
