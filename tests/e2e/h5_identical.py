#!/usr/bin/python3
"""h5_identical.py A.h5 B.h5: the two files hold the same groups and datasets, each with the same dtype, shape and
bytes (strings byte for byte, floats bit for bit, validity companions included), and the same attributes except
`created` (a timestamp). Prints every difference; exits 1 if there is one."""
import sys

import h5py
import numpy as np


def items(f):
    out = {}
    f.visititems(lambda name, obj: out.__setitem__(name, obj))
    return out


def attrs(obj):
    return {k: np.asarray(v).tobytes() for k, v in obj.attrs.items() if k != "created"}


def main(pa, pb):
    a, b = h5py.File(pa, "r"), h5py.File(pb, "r")
    bad = []
    ia, ib = items(a), items(b)
    if sorted(ia) != sorted(ib):
        bad.append(f"objects differ: only in A {sorted(set(ia) - set(ib))}, only in B {sorted(set(ib) - set(ia))}")
    if attrs(a) != attrs(b):
        bad.append("root attributes differ")
    for name in sorted(set(ia) & set(ib)):
        x, y = ia[name], ib[name]
        if attrs(x) != attrs(y):
            bad.append(f"{name}: attributes differ")
        if isinstance(x, h5py.Dataset) != isinstance(y, h5py.Dataset):
            bad.append(f"{name}: a dataset in one file only")
        elif isinstance(x, h5py.Dataset):
            u, v = x[()], y[()]
            if u.dtype != v.dtype or u.shape != v.shape:
                bad.append(f"{name}: {u.dtype}{u.shape} vs {v.dtype}{v.shape}")
            elif np.asarray(u).tobytes() != np.asarray(v).tobytes():
                rows = np.nonzero(np.asarray(u) != np.asarray(v))[0] if u.ndim == 1 else []
                bad.append(f"{name}: values differ (first rows {list(rows[:5])})")
    for m in bad:
        print("DIFF", m)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
