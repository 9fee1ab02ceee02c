#!/usr/bin/env bash
# Build burntray-<version>-macos.dmg from dist/burntray.app (made by PyInstaller), signing and
# notarizing when the variables below are set (see SIGNING.md). Run on macOS (hdiutil, codesign).
#   packaging/macos/build_dmg.sh dist/burntray.app dist/burntray-0.1.0-macos.dmg
set -euo pipefail
app=${1:?usage: build_dmg.sh APP DMG}
dmg=${2:?usage: build_dmg.sh APP DMG}
here=$(cd "$(dirname "$0")" && pwd)

[ -d "$app" ] || { echo "build_dmg: no app bundle at $app (run packaging/make_package.py first)" >&2; exit 1; }
/usr/libexec/PlistBuddy -c "Print :LSUIElement" "$app/Contents/Info.plist" | grep -qx true \
    || { echo "build_dmg: $app lacks LSUIElement=true (it would show a Dock icon)" >&2; exit 1; }

identity=${MACOS_CODESIGN_IDENTITY:-}
if [ -n "$identity" ]; then
    # Inside out: every Mach-O first, then the bundle; hardened runtime for notarization.
    find "$app/Contents" -type f \( -name '*.so' -o -name '*.dylib' -o -perm -111 \) -print0 |
        xargs -0 codesign --force --timestamp --options runtime \
            --entitlements "$here/entitlements.plist" --sign "$identity"
    codesign --force --timestamp --options runtime \
        --entitlements "$here/entitlements.plist" --sign "$identity" "$app"
    codesign --verify --strict --verbose=2 "$app"
else
    echo "build_dmg: MACOS_CODESIGN_IDENTITY unset: the app is not signed (Gatekeeper will warn)" >&2
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -R "$app" "$stage/"
ln -s /Applications "$stage/Applications"
rm -f "$dmg"
hdiutil create -volname burntray -srcfolder "$stage" -fs HFS+ -format UDZO -ov "$dmg"

if [ -n "$identity" ]; then
    codesign --force --timestamp --sign "$identity" "$dmg"
fi
if [ -n "${NOTARY_KEYCHAIN_PROFILE:-}" ]; then
    xcrun notarytool submit "$dmg" --keychain-profile "$NOTARY_KEYCHAIN_PROFILE" --wait
    xcrun stapler staple "$dmg"
elif [ -n "${APPLE_ID:-}" ] && [ -n "${APPLE_TEAM_ID:-}" ] && [ -n "${APPLE_APP_PASSWORD:-}" ]; then
    xcrun notarytool submit "$dmg" --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" \
        --password "$APPLE_APP_PASSWORD" --wait
    xcrun stapler staple "$dmg"
else
    echo "build_dmg: no notarization credentials: the dmg is not notarized" >&2
fi
echo "$dmg"
