#!/usr/bin/env bash
# AppImage recipe for a NETWORKED release pipeline. It is not built or tested on the project's
# offline machines: appimagetool and its runtime are not in Debian, and the PyPI wrappers
# download them. The release workflow runs it on GitHub's Ubuntu runner.
#
#   packaging/linux/appimage/build_appimage.sh dist/burntray dist/burntray-0.1.0-x86_64.AppImage
#
# Needs: the PyInstaller onedir (packaging/make_package.py), and appimagetool: set APPIMAGETOOL to its
# path, or let the script download the continuous release (network).
set -euo pipefail
onedir=${1:?usage: build_appimage.sh ONEDIR OUT.AppImage}
out=${2:?usage: build_appimage.sh ONEDIR OUT.AppImage}
root=$(cd "$(dirname "$0")/../../.." && pwd)
arch=$(uname -m)

tool=${APPIMAGETOOL:-}
if [ -z "$tool" ]; then
    tool=$(mktemp -d)/appimagetool
    curl -fsSL -o "$tool" \
        "https://github.com/AppImage/appimagetool/releases/download/continuous/appimagetool-$arch.AppImage"
    chmod +x "$tool"
fi

appdir=$(mktemp -d)/burntray.AppDir
trap 'rm -rf "$(dirname "$appdir")"' EXIT
mkdir -p "$appdir/usr/lib" "$appdir/usr/share/applications" "$appdir/usr/share/metainfo"
cp -a "$onedir" "$appdir/usr/lib/burntray"
cp "$root/packaging/linux/io.github.burntray.desktop" "$appdir/io.github.burntray.desktop"
cp "$root/packaging/linux/io.github.burntray.desktop" "$appdir/usr/share/applications/"
cp "$root/packaging/linux/io.github.burntray.metainfo.xml" "$appdir/usr/share/metainfo/"
cp "$root/assets/app/burntray-256.png" "$appdir/burntray.png"
for size in 16 22 24 32 48 64 128 256 512; do
    install -D -m644 "$root/assets/app/burntray-$size.png" \
        "$appdir/usr/share/icons/hicolor/${size}x${size}/apps/burntray.png"
done
cat > "$appdir/AppRun" <<'RUN'
#!/bin/sh
# Start at login registers $APPIMAGE (the .AppImage file itself), not this mount point.
here=$(dirname "$(readlink -f "$0")")
exec "$here/usr/lib/burntray/burntray" "$@"
RUN
chmod +x "$appdir/AppRun"

ARCH=$arch "$tool" --no-appstream "$appdir" "$out"
echo "$out"
