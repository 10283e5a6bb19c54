#!/usr/bin/env bash
# Fill fuzz/corpus/<target>/ with the seed corpus: small files from the repository's fixtures
# (JPEGs of every kind the decoder handles, PNG/WebP/BMP/TIFF, the bundled preset, the VOC and
# COCO annotations, a manifest). Idempotent; libFuzzer adds what it finds next to them.
set -euo pipefail
cd "$(dirname "$0")"
fx=../fixtures
c=corpus
mkdir -p $c/decode_jpeg $c/read_image $c/corrupt $c/preset $c/annotations $c/manifest
# JPEGs under 2 KB: baseline 4:2:0/4:2:2/4:4:0/4:1:1, greyscale, progressive, restart
# intervals, SOF1 16-bit tables, arithmetic (image crate's path), CMYK
for f in $fx/jpeg/decode/*.jpg $fx/datasets/odd/cmyk.jpg; do
  [ "$(stat -c %s "$f")" -le 2048 ] || continue
  cp "$f" $c/decode_jpeg/
  cp "$f" $c/read_image/
done
cp $fx/datasets/odd/*.png $fx/webp/*.webp $c/read_image/
# corrupt: 8 header bytes (w, h, layout, corruption, severity, rng, seed) then pixels
for k in $(seq 0 18); do
  printf "\\x07\\x05\\x02\\x$(printf %02x "$k")\\x03\\x01\\x2a\\x00" > $c/corrupt/row$k
  head -c 120 $fx/photos/chelsea_224x224.png >> $c/corrupt/row$k
done
cp ../corruptions/*.toml $c/preset/
# annotations: first byte even = VOC XML, odd = COCO JSON
for f in $fx/datasets/voc/VOCdevkit/VOC2007/Annotations/*.xml; do
  { printf '\x00'; cat "$f"; } > "$c/annotations/voc-$(basename "$f")"
done
{ printf '\x01'; head -c 4096 $fx/datasets/coco/annotations/instances_val2017.json; } > $c/annotations/coco-head.json
printf '\x01{"images":[{"file_name":"val2017/1.jpg"}],"annotations":[]}' > $c/annotations/coco-small.json
cat > $c/manifest/manifest.jsonl <<'JSON'
{"imgcorrupt_manifest":1,"tool_version":"0.1.0","dataset":"imagenet","preset":"imagecorruptions","preset_source":"imagecorruptions","preset_sha256":"00","rng":"fast","seed":0,"seed_rule":"v1","geometry":"imagenet","channel_order":"rgb","image_format":"same","encoders":{"jpeg":"q85"},"annotations":"copy","frost_source":"procedural"}
{"output":"fog/3/n01/a.JPEG","source":"n01/a.JPEG","source_sha256":"ab","sha256":"cd","kind":"image","corruption":"fog","severity":3,"seed":7}
{"output":"fog/3/ann.json","source":"ann.json","source_sha256":"ab","sha256":"ab","kind":"annotation","corruption":"fog","severity":3}
JSON
echo "seed corpus in $(pwd)/$c: $(find $c -type f | wc -l) files"
