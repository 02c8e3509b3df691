#!/usr/bin/python3
"""Writes a file of generic (non-Tessera) 1-D datasets with h5py, for tests/mpi/test_h5_read.c.

Usage: /usr/bin/python3 tests/mpi/make_generic_h5.py OUT.h5

Every value is a function of the row index i; test_h5_read.c recomputes them, so change both together.
  /generic   a_int16 = 13i - 5000 (chunked, gzip+shuffle), b_uint32 = 3e9 + i, c_float32 = i/2 - 7 (chunked, gzip),
             d_int64 = i*10^12 - 1, day = 18000 + i (int32, CF units), e_uint8 = i % 256,
             f_int8 = i % 256 - 128, g_float64 = NaN when i % 9 == 0 else i/4, name = |S8 (see name_of)
  /u64       ok = 3i (uint64), huge = i except the last row, 2^63 + 5 (does not fit in int64)
  /uneven    long (N rows), short (N - 3 rows): not a table
"""
import sys

import h5py
import numpy as np

N = 1003


def name_of(k):
    """b"" when k % 7 == 0, eight digits (the full width, no NUL) when k % 11 == 5, else b"s<k>"."""
    if k % 7 == 0:
        return b""
    if k % 11 == 5:
        return b"%08d" % k
    return b"s%d" % k


def main(out):
    i = np.arange(N, dtype=np.int64)
    with h5py.File(out, "w") as f:
        g = f.create_group("generic")
        g.create_dataset("a_int16", data=(13 * i - 5000).astype(np.int16), chunks=(100,), compression="gzip",
                         shuffle=True)
        g.create_dataset("b_uint32", data=(3_000_000_000 + i).astype(np.uint32))
        g.create_dataset("c_float32", data=(i / 2 - 7).astype(np.float32), chunks=(64,), compression="gzip")
        g.create_dataset("d_int64", data=i * 10**12 - 1)
        day = g.create_dataset("day", data=(18000 + i).astype(np.int32))
        day.attrs["units"] = "days since 1970-01-01"  # h5py: a variable-length string attribute
        g.create_dataset("e_uint8", data=(i % 256).astype(np.uint8))
        g.create_dataset("f_int8", data=(i % 256 - 128).astype(np.int8))
        g.create_dataset("g_float64", data=np.where(i % 9 == 0, np.nan, i / 4))
        g.create_dataset("name", data=np.array([name_of(k) for k in range(N)], dtype="S8"))

        u = f.create_group("u64")
        u.create_dataset("ok", data=(3 * i).astype(np.uint64))
        huge = i.astype(np.uint64)
        huge[-1] = 2**63 + 5
        u.create_dataset("huge", data=huge)

        bad = f.create_group("uneven")
        bad.create_dataset("long", data=np.zeros(N, np.int32))
        bad.create_dataset("short", data=np.zeros(N - 3, np.int32))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_generic_h5.py OUT.h5")
    main(sys.argv[1])
