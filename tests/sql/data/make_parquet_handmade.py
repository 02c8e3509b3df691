#!/usr/bin/env python3
"""Writes parquet/handmade.parquet and parquet/handmade_bitpacked.parquet: Parquet features DuckDB does not write, encoded by this small writer of its own
(Thrift compact protocol, levels, DELTA encodings: written from the format specification, independent of Tessera's
C code). make_parquet.mjs has DuckDB read the file back (which checks it) and tests/sql/parquet.test compares
Tessera's answers with DuckDB's. Deterministic: rerunning it rewrites an identical file.

Columns (2 row groups of 5 and 4 rows):
  s     BYTE_ARRAY STRING, optional: DELTA_BYTE_ARRAY in a DATA_PAGE_V2 (prefixes shared with the previous value)
  k     INT32, optional: dictionary page + v1 data page with PLAIN_DICTIONARY indices; GZIP-compressed (in
        handmade_bitpacked.parquet, the same rows with the deprecated BIT_PACKED definition levels, which DuckDB
        does not read)
  t96   INT96 (Spark/Impala timestamps), required
  half  FIXED_LEN_BYTE_ARRAY(2) FLOAT16, required
  tms   INT64 with the legacy TIMESTAMP_MILLIS converted type, required
  tns   INT64 TIMESTAMP(NANOS) logical type, required
  big   INT64, required: DELTA_BINARY_PACKED with deltas over 2^32 and a negative minimum
"""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))

# ---- Thrift compact protocol ----------------------------------------------------------------------------------------


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def zigzag(v):
    return ((v << 1) ^ (v >> 63)) & ((1 << 64) - 1)


class Struct:
    """Fields as (id, type, value): 'i32', 'i64', 'bin', 'bool', 'struct', ('list', elem_type, [values])."""

    def __init__(self, *fields):
        self.fields = [f for f in fields if f is not None]

    def encode(self):
        out, last = bytearray(), 0
        for fid, kind, val in self.fields:
            code = {'bool': 1 if val else 2, 'i32': 5, 'i64': 6, 'bin': 8, 'list': 9, 'struct': 12}[kind]
            delta = fid - last
            out += bytes([delta << 4 | code]) if 0 < delta <= 15 else bytes([code]) + varint(zigzag(fid))
            last = fid
            out += encode_value(kind, val)
        out.append(0)
        return bytes(out)


def encode_value(kind, val):
    if kind in ('i32', 'i64'):
        return varint(zigzag(val))
    if kind == 'bin':
        val = val.encode() if isinstance(val, str) else val
        return varint(len(val)) + val
    if kind == 'bool':
        return b''
    if kind == 'struct':
        return val.encode()
    _, elem, items = ('list',) + val
    code = {'i32': 5, 'bin': 8, 'struct': 12}[elem]
    head = bytes([len(items) << 4 | code]) if len(items) < 15 else bytes([0xF0 | code]) + varint(len(items))
    return head + b''.join(encode_value(elem, x) for x in items)


# ---- encodings ----------------------------------------------------------------------------------------------------------


def bitpack(values, width):
    acc, nbits, out = 0, 0, bytearray()
    for v in values:
        acc |= v << nbits
        nbits += width
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits:
        out.append(acc)
    return bytes(out)


def rle_bitpacked(values, width):
    """The hybrid encoding as one bit-packed run (padded to a multiple of 8 values)."""
    padded = list(values) + [0] * (-len(values) % 8)
    return varint((len(padded) // 8) << 1 | 1) + bitpack(padded, width)


def delta_binary_packed(values, mask=(1 << 64) - 1):
    """Block of 128 values, 4 miniblocks of 32; deltas and min in wrapping 64-bit arithmetic."""
    out = bytearray(varint(128) + varint(4) + varint(len(values)) + varint(zigzag(values[0]) if values else 0))
    for b in range(1, len(values), 128):
        block = values[b:b + 128]
        prev = values[b - 1:b - 1 + len(block)]
        deltas = [(x - p) for x, p in zip(block, prev)]
        mn = min(deltas)
        out += varint(zigzag(mn))
        rel = [(d - mn) & mask for d in deltas]
        widths, bodies = [], []
        for m in range(4):
            chunk = rel[m * 32:(m + 1) * 32]
            if not chunk:
                widths.append(0)
                continue
            w = max(chunk).bit_length()
            widths.append(w)
            bodies.append(bitpack(chunk + [0] * (32 - len(chunk)), w))
        out += bytes(widths) + b''.join(bodies)
    return bytes(out)


def plain_strings(values):
    return b''.join(struct.pack('<I', len(v)) + v for v in values)


# ---- pages and chunks ---------------------------------------------------------------------------------------------------


def page_v1(values_bytes, num, encoding, defs=None, def_encoding=3, codec=0):
    body = b''
    if defs is not None:
        if def_encoding == 4:   # deprecated BIT_PACKED: most significant bit first, no length prefix
            packed = bytearray((len(defs) + 7) // 8)
            for i, d in enumerate(defs):
                packed[i // 8] |= d << (7 - i % 8)
            body += bytes(packed)
        else:
            rle = rle_bitpacked(defs, 1)
            body += struct.pack('<I', len(rle)) + rle
    body += values_bytes
    data = gzip(body) if codec == 2 else body
    header = Struct((1, 'i32', 0), (2, 'i32', len(body)), (3, 'i32', len(data)),
                    (5, 'struct', Struct((1, 'i32', num), (2, 'i32', encoding), (3, 'i32', def_encoding),
                                         (4, 'i32', 3))))
    return header.encode() + data


def page_v2(values_bytes, num, nulls, encoding, defs):
    levels = rle_bitpacked(defs, 1)
    header = Struct((1, 'i32', 3), (2, 'i32', len(levels) + len(values_bytes)),
                    (3, 'i32', len(levels) + len(values_bytes)),
                    (8, 'struct', Struct((1, 'i32', num), (2, 'i32', nulls), (3, 'i32', num), (4, 'i32', encoding),
                                         (5, 'i32', len(levels)), (6, 'i32', 0), (7, 'bool', False))))
    return header.encode() + levels + values_bytes


def dict_page(values_bytes, num, codec=0):
    data = gzip(values_bytes) if codec == 2 else values_bytes
    header = Struct((1, 'i32', 2), (2, 'i32', len(values_bytes)), (3, 'i32', len(data)),
                    (7, 'struct', Struct((1, 'i32', num), (2, 'i32', 2))))
    return header.encode() + data


def gzip(b):
    c = zlib.compressobj(6, zlib.DEFLATED, 31)
    return c.compress(b) + c.flush()


def delta_byte_array(values):
    pre, suf, prev = [], [], b''
    for v in values:
        k = 0
        while k < min(len(v), len(prev)) and v[k] == prev[k]:
            k += 1
        pre.append(k)
        suf.append(v[k:])
        prev = v
    return delta_binary_packed(pre) + delta_binary_packed([len(s) for s in suf]) + b''.join(suf)


def int96(ts_micros):
    """Spark's INT96: nanoseconds within the day (8 bytes) then the Julian day (4 bytes)."""
    day, us = divmod(ts_micros, 86400 * 10**6)
    return struct.pack('<qI', us * 1000, day + 2440588)


def half(x):
    return struct.pack('<e', x)


# ---- the file ------------------------------------------------------------------------------------------------------------

ROWS = [  # s, k, t96 (micros), half, tms (millis), tns (nanos), big
    ('apple', 7, 0, 1.5, 1609459200123, 1609459200123456789, 1 << 40),
    ('applesauce', None, 1614834367000001, -2.25, 1614834367000, 1614834367000000001, -(1 << 41)),
    (None, 7, -86400 * 10**6 + 1, 65504.0, -1000, -1, 5),
    ('apricot', 9, 951782400000000, 0.0, 951782400999, 951782400999999999, (1 << 62) + 3),
    ('b', 7, 86399999999, 0.000061035, 86399999, 86399999999999, -7),
    ('banana', 11, 1700000000000000, 3.0, 1700000000000, 1700000000000000000, 0),
    ('bandana', None, 1700000000500000, -0.5, 1700000000500, 1700000000500000000, 1 << 33),
    ('band', 11, 1700000001000000, 2.0, 1700000001000, 1700000001000000000, -(1 << 33)),
    (None, 9, 1700000002000000, 4.0, 1700000002000, 1700000002000000000, 12345678901234),
]


def chunks_for(rows, k_levels):
    """Pages of one row group: list of (column index, bytes, num_values, encodings, dict offset flag, codec)."""
    out = []
    s = [r[0] for r in rows]
    present = [v.encode() for v in s if v is not None]
    out.append((0, page_v2(delta_byte_array(present), len(s), s.count(None), 7, [int(v is not None) for v in s]),
                len(s), [7, 3], False, 0))
    k = [r[1] for r in rows]
    dic = sorted({v for v in k if v is not None})
    idx = [dic.index(v) for v in k if v is not None]
    width = max(1, (len(dic) - 1).bit_length())
    pages = dict_page(b''.join(struct.pack('<i', v) for v in dic), len(dic), codec=2) + \
        page_v1(bytes([width]) + rle_bitpacked(idx, width), len(k), 2, [int(v is not None) for v in k], k_levels, codec=2)
    out.append((1, pages, len(k), [2, k_levels, 0], True, 2))
    out.append((2, page_v1(b''.join(int96(r[2]) for r in rows), len(rows), 0), len(rows), [0], False, 0))
    out.append((3, page_v1(b''.join(half(r[3]) for r in rows), len(rows), 0), len(rows), [0], False, 0))
    out.append((4, page_v1(b''.join(struct.pack('<q', r[4]) for r in rows), len(rows), 0), len(rows), [0], False, 0))
    out.append((5, page_v1(b''.join(struct.pack('<q', r[5]) for r in rows), len(rows), 0), len(rows), [0], False, 0))
    out.append((6, page_v1(delta_binary_packed([r[6] for r in rows]), len(rows), 5), len(rows), [5], False, 0))
    return out


TYPES = [6, 1, 3, 7, 2, 2, 2]
NAMES = ['s', 'k', 't96', 'half', 'tms', 'tns', 'big']


def schema():
    unit = Struct((3, 'struct', Struct()))  # NANOS
    return [Struct((4, 'bin', 'schema'), (5, 'i32', 7)),
            Struct((1, 'i32', 6), (3, 'i32', 1), (4, 'bin', 's'), (6, 'i32', 0),
                   (10, 'struct', Struct((1, 'struct', Struct())))),
            Struct((1, 'i32', 1), (3, 'i32', 1), (4, 'bin', 'k')),
            Struct((1, 'i32', 3), (3, 'i32', 0), (4, 'bin', 't96')),
            Struct((1, 'i32', 7), (2, 'i32', 2), (3, 'i32', 0), (4, 'bin', 'half'),
                   (10, 'struct', Struct((15, 'struct', Struct())))),
            Struct((1, 'i32', 2), (3, 'i32', 0), (4, 'bin', 'tms'), (6, 'i32', 9)),
            Struct((1, 'i32', 2), (3, 'i32', 0), (4, 'bin', 'tns'),
                   (10, 'struct', Struct((8, 'struct', Struct((1, 'bool', True), (2, 'struct', unit)))))),
            Struct((1, 'i32', 2), (3, 'i32', 0), (4, 'bin', 'big'))]


def write(name, k_levels):
    out = bytearray(b'PAR1')
    groups = []
    for rows in (ROWS[:5], ROWS[5:]):
        cols = []
        for col, data, num, encs, has_dict, codec in chunks_for(rows, k_levels):
            start = len(out)
            out += data
            meta = Struct((1, 'i32', TYPES[col]), (2, 'list', ('i32', encs)), (3, 'list', ('bin', [NAMES[col]])),
                          (4, 'i32', codec), (5, 'i64', num), (6, 'i64', len(data)), (7, 'i64', len(data)),
                          (9, 'i64', start), (11, 'i64', start) if has_dict else None)
            cols.append(Struct((2, 'i64', start), (3, 'struct', meta)))
        groups.append(Struct((1, 'list', ('struct', cols)), (2, 'i64', 0), (3, 'i64', len(rows))))
    footer = Struct((1, 'i32', 2), (2, 'list', ('struct', schema())), (3, 'i64', len(ROWS)),
                    (4, 'list', ('struct', groups)), (6, 'bin', 'make_parquet_handmade.py')).encode()
    out += footer + struct.pack('<I', len(footer)) + b'PAR1'
    os.makedirs(os.path.join(HERE, 'parquet'), exist_ok=True)
    with open(os.path.join(HERE, 'parquet', name), 'wb') as f:
        f.write(out)


def main():
    write('handmade.parquet', 3)
    # the same rows with k's definition levels in the deprecated BIT_PACKED encoding, which DuckDB does not read
    write('handmade_bitpacked.parquet', 4)


if __name__ == '__main__':
    main()
