#!/usr/bin/env python3
"""Generates lib/web/url_idna.c's Unicode tables (UTS #46 mapping, NFC, Bidi, marks, joining types).

Run by the build (lib/web/meson.build, a custom_target) with one argument: the header to write. Never
edit or commit the output. Sources, all on the build machine, never a hand-copied table:

  - the UTS #46 IDNA mapping table: /usr/share/unicode/idna/IdnaMappingTable.txt when present, else the
    table the Python `idna` package carries (idna.uts46data; Debian package python3-idna);
  - NFC data, Bidi classes and general categories: Python's own unicodedata module;
  - Joining_Type (for the ContextJ rule of ZWNJ): /usr/share/unicode/ArabicShaping.txt (Debian package
    unicode-data) when present, else only the default (T for Mn, Me, Cf).

Statuses are reduced to what WHATWG's "domain to ASCII" needs: UseSTD3ASCIIRules=false and non-transitional
processing, so "deviation" and "disallowed_STD3_valid" are valid and "disallowed_STD3_mapped" is mapped.
"""
import os
import sys
import unicodedata

VALID, MAPPED, DISALLOWED, IGNORED = 0, 1, 2, 3
MAX_CP = 0x110000


def load_mapping_txt(path):
    """Parses IdnaMappingTable.txt into [(start, status, mapping-string-or-None)] sorted by start."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            fields = [x.strip() for x in line.split(";")]
            rng = fields[0].split("..")
            lo = int(rng[0], 16)
            hi = int(rng[-1], 16)
            status = fields[1]
            mapping = None
            if len(fields) > 2 and fields[2]:
                mapping = "".join(chr(int(x, 16)) for x in fields[2].split())
            st = {"valid": VALID, "deviation": VALID, "disallowed_STD3_valid": VALID, "mapped": MAPPED,
                  "disallowed_STD3_mapped": MAPPED, "ignored": IGNORED}.get(status, DISALLOWED)
            if status == "deviation":
                mapping = None
            for cp in range(lo, hi + 1) if st == MAPPED else [lo]:
                out.append((cp, st, mapping))
            if st != MAPPED and hi + 1 < MAX_CP:
                out.append((hi + 1, None, None))  # placeholder end, removed by compaction
    return out


def load_mapping_idna():
    """Reads the Python idna package's copy of the UTS #46 table (python3-idna or pip)."""
    try:
        from idna.uts46data import uts46data
    except ImportError:
        sys.path.append("/usr/lib/python3/dist-packages")
        from idna.uts46data import uts46data
    code = {"V": VALID, "D": VALID, "3": MAPPED, "M": MAPPED, "I": IGNORED, "X": DISALLOWED}
    out = []
    for row in uts46data:
        st = code[row[1]]
        mapping = row[2] if len(row) > 2 and st == MAPPED else None
        if row[1] == "3" and mapping is None:
            st = VALID  # disallowed_STD3_valid
        out.append((row[0], st, mapping))
    return out


def compact(rows):
    """Sorted, with runs of equal unmapped status merged; mapped code points keep one row each."""
    rows = sorted((r for r in rows if r[1] is not None), key=lambda r: r[0])
    out = []
    for cp, st, mp in rows:
        if out and st != MAPPED and out[-1][1] == st:
            continue
        out.append((cp, st, mp))
    return out


def ranges_of(fn):
    """Run-length ranges [(start, value)] of fn over all code points."""
    out = []
    prev = object()
    for cp in range(MAX_CP):
        v = fn(cp)
        if v != prev:
            out.append((cp, v))
            prev = v
    return out


BIDI = ["L", "R", "AL", "AN", "EN", "ES", "CS", "ET", "ON", "BN", "NSM", "OTHER"]


def bidi_class(cp):
    b = unicodedata.bidirectional(chr(cp))
    return BIDI.index(b) if b in BIDI else BIDI.index("OTHER")


def joining_types():
    """Joining_Type per code point as a dict (U omitted): D, L, R, T (C counts as D)."""
    jt = {}
    for cp in range(MAX_CP):
        if unicodedata.category(chr(cp)) in ("Mn", "Me", "Cf"):
            jt[cp] = "T"
    path = "/usr/share/unicode/ArabicShaping.txt"
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                fields = [x.strip() for x in line.split(";")]
                cp, t = int(fields[0], 16), fields[2]
                if t == "U":
                    jt.pop(cp, None)
                else:
                    jt[cp] = "D" if t == "C" else t
    return jt


def nfc_tables():
    """Full canonical decompositions, combining classes, and primary composition pairs."""
    decomp, pairs = [], []
    for cp in range(MAX_CP):
        if 0xAC00 <= cp <= 0xD7A3:
            continue  # Hangul syllables are algorithmic
        ch = chr(cp)
        d = unicodedata.decomposition(ch)
        if not d or d.startswith("<"):
            continue
        full = unicodedata.normalize("NFD", ch)
        decomp.append((cp, [ord(c) for c in full]))
        parts = [int(x, 16) for x in d.split()]
        if len(parts) == 2 and unicodedata.normalize("NFC", chr(parts[0]) + chr(parts[1])) == ch:
            pairs.append((parts[0], parts[1], cp))
    pairs.sort()
    ccc = ranges_of(lambda cp: unicodedata.combining(chr(cp)))
    return decomp, ccc, pairs


def c_array(name, ctype, items, per_line=8):
    lines = ["static const %s %s[] = {" % (ctype, name)]
    for i in range(0, len(items), per_line):
        lines.append("    " + " ".join(items[i:i + per_line]))
    lines.append("};")
    return "\n".join(lines)


def main():
    out_path = sys.argv[1]
    txt = "/usr/share/unicode/idna/IdnaMappingTable.txt"
    rows = compact(load_mapping_txt(txt) if os.path.exists(txt) else load_mapping_idna())

    pool = bytearray()
    pool_index = {}
    map_items = []
    for cp, st, mp in rows:
        off = ln = 0
        if st == MAPPED:
            b = mp.encode("utf-8")
            if b not in pool_index:
                pool_index[b] = len(pool)
                pool += b
            off, ln = pool_index[b], len(b)
        assert ln < 256 and off < (1 << 22)
        map_items.append("{0x%X, 0x%X}," % (cp, st | (ln << 2) | (off << 10)))

    decomp, ccc, pairs = nfc_tables()
    dpool, dec_items = [], []
    for cp, seq in decomp:
        dec_items.append("{0x%X, 0x%X}," % (cp, len(dpool) | (len(seq) << 16)))
        dpool.extend(seq)
    ccc_items = ["{0x%X, %d}," % r for r in ccc]
    pair_items = ["{0x%X, 0x%X, 0x%X}," % p for p in pairs]
    bidi_items = ["{0x%X, %d}," % r for r in ranges_of(bidi_class)]
    mark_items = ["{0x%X, %d}," % r for r in
                  ranges_of(lambda cp: 1 if unicodedata.category(chr(cp)).startswith("M") else 0)]
    jt = joining_types()
    jcode = {"D": 1, "L": 2, "R": 3, "T": 4}
    join_items = ["{0x%X, %d}," % r for r in ranges_of(lambda cp: jcode.get(jt.get(cp), 0))]

    parts = [
        "/* Generated by lib/web/gen_idna.py from the Unicode data on the build machine (unicodedata %s). "
        "Do not edit. */" % unicodedata.unidata_version,
        "typedef struct { uint32_t start; uint32_t info; } idna_map_t;  "
        "/* info: status | mapping length << 2 | pool offset << 10 */",
        "typedef struct { uint32_t start; uint32_t value; } uni_range_t;",
        "typedef struct { uint32_t first, second, composite; } uni_pair_t;",
        c_array("idna_map", "idna_map_t", map_items, 4),
        "static const char idna_pool[] = {%s};" % ",".join(str(b) for b in pool),
        c_array("nfc_decomp", "uni_range_t", dec_items, 4),
        c_array("nfc_decomp_pool", "uint32_t", ["0x%X," % x for x in dpool], 8),
        c_array("nfc_ccc", "uni_range_t", ccc_items, 6),
        c_array("nfc_pairs", "uni_pair_t", pair_items, 3),
        "enum { BIDI_L, BIDI_R, BIDI_AL, BIDI_AN, BIDI_EN, BIDI_ES, BIDI_CS, BIDI_ET, BIDI_ON, BIDI_BN, "
        "BIDI_NSM, BIDI_OTHER };",
        c_array("uni_bidi", "uni_range_t", bidi_items, 6),
        c_array("uni_mark", "uni_range_t", mark_items, 6),
        "enum { JT_U, JT_D, JT_L, JT_R, JT_T };",
        c_array("uni_joining", "uni_range_t", join_items, 6),
        "",
    ]
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("\n".join(parts))


if __name__ == "__main__":
    main()
