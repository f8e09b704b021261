#!/usr/bin/env bash
# Rebuilds the poster fonts in assets/fonts/ from Noto Sans CJK SC: a subset of its Regular
# and Bold faces to the characters a Shanghai rental poster can need, written as
# NotoSansCJKsc-Regular-subset.otf and NotoSansCJKsc-Bold-subset.otf (CFF outlines, OpenType).
#
# The character set:
#   - the 8,105 characters of the 通用规范汉字表 (2013), read from
#     assets/fonts/tongyong-guifan-8105.txt;
#   - every character of GB 2312 (hanzi and symbols), from Python's gb2312 codec over all
#     valid two-byte codes;
#   - ASCII 0x20-0x7E;
#   - CJK symbols and punctuation U+3000-U+303F and half-/full-width forms U+FF00-U+FFEF
#     (their unassigned code points left out);
#   - common punctuation and symbols outside those blocks, listed in EXTRA below
#     (· — – “ ” ‘ ’ … ‰ ※ ¥ ° × ÷ ㎡ and the like).
#
# Kept: the whole name table (the family stays "Noto Sans CJK SC", which the poster templates
# name), OS/2, the vertical metrics, and the 'kern' and 'palt' features (about 30 KB). Dropped:
# CFF hinting (about 15 % of the size; posters are rendered at print resolution) and the
# other layout features, whose regional (JP/KR/TC) and vertical glyphs would nearly double
# the glyph count.
#
# Needs the Debian package fonts-noto-cjk (apt-get install fonts-noto-cjk), python3, and
# fontTools, which provides pyftsubset (pip install fonttools).
#
#   scripts/subset-font.sh
#   NOTO_CJK_REGULAR=path/to/NotoSansCJK-Regular.ttc NOTO_CJK_BOLD=path/to/NotoSansCJK-Bold.ttc \
#     scripts/subset-font.sh
#
# Without NOTO_CJK_REGULAR / NOTO_CJK_BOLD the .ttc files are looked up with fc-list, then in
# the file list of the fonts-noto-cjk package. Prints the character count and the output
# sizes, then checks the results: each font opens, maps every character of the set the
# source font has, and names the family "Noto Sans CJK SC".
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=assets/fonts
LIST=$OUT/tongyong-guifan-8105.txt
FAMILY="Noto Sans CJK SC"
# Punctuation and symbols beyond ASCII, GB 2312 and U+3000-303F / U+FF00-FFEF, as code points.
EXTRA="00A0-00BF 00D7 00F7 2010-2016 2018-201A 201C-201E 2020-2022 2025-2027 2030 2032 2033 \
2035 2039 203A 203B 203C 33A1"

# The path of the font file named $1, from fontconfig or the fonts-noto-cjk package.
find_ttc() {
  local name=$1 path=""
  if command -v fc-list >/dev/null; then
    path=$(fc-list --format '%{file}\n' 2>/dev/null |
      awk -F/ -v n="$name" '$NF == n && !found { print; found = 1 }')
  fi
  if [[ -z $path ]] && command -v dpkg >/dev/null; then
    path=$(dpkg -L fonts-noto-cjk 2>/dev/null |
      awk -F/ -v n="$name" '$NF == n && !found { print; found = 1 }')
  fi
  printf '%s\n' "$path"
}

REGULAR_TTC=${NOTO_CJK_REGULAR:-$(find_ttc NotoSansCJK-Regular.ttc)}
BOLD_TTC=${NOTO_CJK_BOLD:-$(find_ttc NotoSansCJK-Bold.ttc)}
for f in "$REGULAR_TTC" "$BOLD_TTC"; do
  if [[ -z $f || ! -f $f ]]; then
    echo "NotoSansCJK-Regular.ttc / NotoSansCJK-Bold.ttc not found (got '${f}')." >&2
    echo "Install the Debian package fonts-noto-cjk, or set NOTO_CJK_REGULAR and NOTO_CJK_BOLD." >&2
    exit 2
  fi
done
command -v pyftsubset >/dev/null && python3 -c 'import fontTools' 2>/dev/null || {
  echo "fontTools is not installed (pip install fonttools)" >&2
  exit 2
}
[[ -f $LIST ]] || { echo "$LIST is missing" >&2; exit 2; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "Regular: $REGULAR_TTC"
echo "Bold:    $BOLD_TTC"

# Extract the SC face of each collection, and write the character set as U+XXXX lines.
python3 - "$REGULAR_TTC" "$BOLD_TTC" "$LIST" "$WORK" "$FAMILY" "$EXTRA" <<'PY'
import sys
import unicodedata
from fontTools.ttLib import TTCollection

regular, bold, list_path, work, family, extra = sys.argv[1:]

for weight, path in (("Regular", regular), ("Bold", bold)):
    collection = TTCollection(path)
    faces = [f for f in collection.fonts if f["name"].getDebugName(1) == family]
    if len(faces) != 1:
        sys.exit(f"{path}: expected one face of family {family!r}, found {len(faces)}")
    faces[0].recalcTimestamp = False  # keep head.modified: the same input gives the same bytes
    faces[0].save(f"{work}/sc-{weight}.otf")

tongyong = []
with open(list_path, encoding="utf-8") as f:
    for line in f:
        line = line.strip()
        if line and not line.startswith("#"):
            if len(line) != 1:
                sys.exit(f"{list_path}: not one character per line: {line!r}")
            tongyong.append(line)
if len(tongyong) != 8105 or len(set(tongyong)) != 8105:
    sys.exit(f"{list_path}: {len(tongyong)} lines, {len(set(tongyong))} distinct; expected 8105")

gb2312 = set()
for hi in range(0xA1, 0xFF):
    for lo in range(0xA1, 0xFF):
        try:
            gb2312.add(bytes([hi, lo]).decode("gb2312"))
        except UnicodeDecodeError:
            pass

def assigned(first, last):
    return {chr(c) for c in range(first, last + 1) if unicodedata.category(chr(c)) != "Cn"}

ascii_ = assigned(0x20, 0x7E)
blocks = assigned(0x3000, 0x303F) | assigned(0xFF00, 0xFFEF)
extras = set()
for item in extra.split():
    first, _, last = item.partition("-")
    extras |= assigned(int(first, 16), int(last or first, 16))

chars = set(tongyong) | gb2312 | ascii_ | blocks | extras
print(f"通用规范汉字表 {len(tongyong)}, GB 2312 {len(gb2312)} "
      f"({sum(1 for c in gb2312 if 0x4E00 <= ord(c) <= 0x9FFF)} hanzi), ASCII {len(ascii_)}, "
      f"U+3000-303F/U+FF00-FFEF {len(blocks)}, extra {len(extras)}")
print(f"characters in the set: {len(chars)}")
with open(f"{work}/unicodes.txt", "w") as f:
    for c in sorted(chars):
        f.write(f"U+{ord(c):04X}\n")
PY

for weight in Regular Bold; do
  pyftsubset "$WORK/sc-$weight.otf" \
    --unicodes-file="$WORK/unicodes.txt" \
    --layout-features='kern,palt' \
    --no-hinting \
    --name-IDs='*' \
    --name-languages='*' \
    --notdef-outline \
    --output-file="$OUT/NotoSansCJKsc-$weight-subset.otf"
  printf '%s: %s bytes (source face %s bytes)\n' "$OUT/NotoSansCJKsc-$weight-subset.otf" \
    "$(wc -c <"$OUT/NotoSansCJKsc-$weight-subset.otf")" "$(wc -c <"$WORK/sc-$weight.otf")"
done

# Check the results against the set and the source faces.
python3 - "$WORK" "$OUT" "$FAMILY" <<'PY'
import sys
from fontTools.ttLib import TTFont

work, out, family = sys.argv[1:]
wanted = [int(line[2:], 16) for line in open(f"{work}/unicodes.txt")]
failed = False
for weight in ("Regular", "Bold"):
    source = TTFont(f"{work}/sc-{weight}.otf", lazy=True).getBestCmap()
    font = TTFont(f"{out}/NotoSansCJKsc-{weight}-subset.otf")
    cmap = font.getBestCmap()
    not_in_source = [c for c in wanted if c not in source]
    lost = [c for c in wanted if c in source and c not in cmap]
    names = {font["name"].getDebugName(1), font["name"].getDebugName(16) or family}
    print(f"{weight}: family {font['name'].getDebugName(1)!r}, weight "
          f"{font['OS/2'].usWeightClass}, {font['maxp'].numGlyphs} glyphs, "
          f"{sum(1 for c in wanted if c in cmap)} of {len(wanted)} characters mapped")
    if not_in_source:
        print(f"  not in the source font: "
              + " ".join(f"U+{c:04X} {chr(c)}" for c in not_in_source))
    if lost:
        print(f"  ERROR: lost by the subset: " + " ".join(f"U+{c:04X}" for c in lost))
        failed = True
    if names != {family}:
        print(f"  ERROR: family names {names}, expected {family!r}")
        failed = True
sys.exit(1 if failed else 0)
PY
