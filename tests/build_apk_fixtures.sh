#!/bin/sh
# Build the APK fixture set in tests/fixtures/apks/ with Debian's Android tools (no SDK):
#   apt-get install -y aapt apksigner zipalign android-framework-res default-jdk-headless
# The results are committed, so tests never need these tools. Keys are throwaway.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
OUT="$HERE/fixtures/apks"
FW=/usr/share/android-framework-res/framework-res.apk
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"
cd "$WORK"

cat > AndroidManifest.xml <<'XML'
<?xml version="1.0" encoding="utf-8"?>
<manifest xmlns:android="http://schemas.android.com/apk/res/android"
    package="cn.gov.example.zwfw" android:versionCode="302" android:versionName="3.0.2">
    <uses-sdk android:minSdkVersion="21" android:targetSdkVersion="33" />
    <application android:label="示例政务" android:hasCode="false" />
</manifest>
XML

key() {  # key <name>: RSA 2048 keystore, password "fixture"
    keytool -genkeypair -keystore "$1.jks" -storepass fixture -keypass fixture -alias "$1" \
        -keyalg RSA -keysize 2048 -validity 36500 -dname "CN=xuncha fixture $1, O=xuncha" \
        >/dev/null 2>&1
}
sign() {  # sign <key> <in> <out> [apksigner options]
    k=$1; in=$2; out=$3; shift 3
    apksigner sign --ks "$k.jks" --ks-pass pass:fixture --ks-key-alias "$k" --min-sdk-version 21 \
        "$@" --out "$out" "$in"
    rm -f "$out.idsig"
}
key old; key new; key other

aapt package -f -M AndroidManifest.xml -I "$FW" -F raw.apk >/dev/null
zipalign -f 4 raw.apk unsigned.apk

sign old unsigned.apk "$OUT/v123.apk" --v1-signing-enabled true --v2-signing-enabled true \
    --v3-signing-enabled true
sign old unsigned.apk "$OUT/v2only.apk" --v1-signing-enabled false --v2-signing-enabled true \
    --v3-signing-enabled false
sign old unsigned.apk "$OUT/v1only.apk" --v1-signing-enabled true --v2-signing-enabled false \
    --v3-signing-enabled false
sign other unsigned.apk "$OUT/otherkey.apk"
# key rotation: old -> new, proven by a lineage; v1/v2 stay on the old key, v3 uses the new
apksigner rotate --out lineage.bin \
    --old-signer --ks old.jks --ks-pass pass:fixture --ks-key-alias old \
    --new-signer --ks new.jks --ks-pass pass:fixture --ks-key-alias new
apksigner sign --ks old.jks --ks-pass pass:fixture --ks-key-alias old --next-signer \
    --ks new.jks --ks-pass pass:fixture --ks-key-alias new --lineage lineage.bin \
    --min-sdk-version 21 --out "$OUT/rotated.apk" unsigned.apk
rm -f "$OUT/rotated.apk.idsig"
cp unsigned.apk "$OUT/unsigned.apk"
# v1 by the JDK's jarsigner (PKCS#7 with signed attributes, unlike apksigner's)
jarsigner -keystore other.jks -storepass fixture -sigalg SHA256withRSA -digestalg SHA-256 \
    -signedjar "$OUT/jarsigned.apk" unsigned.apk other >/dev/null

# corrupt: the end of central directory is gone
head -c $(( $(stat -c %s "$OUT/v123.apk") - 30 )) "$OUT/v123.apk" > "$OUT/corrupt.apk"
printf 'garbage-not-a-zip-trailer' >> "$OUT/corrupt.apk"
# truncated download: the first half of a good APK
head -c $(( $(stat -c %s "$OUT/v123.apk") / 2 )) "$OUT/v123.apk" > "$OUT/truncated.apk"
# ZIP bomb: a 50 MB AndroidManifest.xml of zeros (deflates to ~50 KB)
python3 - "$OUT/zipbomb.apk" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    with z.open("AndroidManifest.xml", "w", force_zip64=True) as f:
        block = b"\0" * (1 << 20)
        for _ in range(50):
            f.write(block)
PY
# an HTML page served under an .apk name (a lapsed domain now selling gambling)
cat > "$OUT/gambling.apk" <<'HTML'
<!DOCTYPE html><html><head><meta charset="utf-8"><title>澳门新葡京 - 在线娱乐</title></head>
<body><h1>澳门新葡京娱乐城</h1><p>真人百家乐 体育投注 首存送彩金 注册即送</p></body></html>
HTML
# the signers' certificate fingerprints, for the tests
for k in old new other; do
    printf '%s ' "$k"
    keytool -exportcert -keystore "$k.jks" -storepass fixture -alias "$k" 2>/dev/null \
        | sha256sum | cut -d' ' -f1
done > "$OUT/signers.txt"
ls -l "$OUT"
