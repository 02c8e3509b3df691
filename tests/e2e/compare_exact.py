#!/usr/bin/python3
"""compare_exact.py A.h5 B.h5: the bank-analytics tables of two outputs are identical cell for cell (integers and
strings equal, floats bit for bit with NaN == NaN, raw lines byte for byte, whatever their storage: fixed-length
strings or bytes + offsets). Exits 1 on the first difference of each column."""
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1]), h5py.File(sys.argv[2])
def cols(g):
    out = {}
    for k in g.keys():
        if isinstance(g[k], h5py.Group):  # bytes + offsets strings
            by, off = g[k]['bytes'][:], g[k]['offsets'][:]
            out[k] = np.array([by[off[i]:off[i+1]].tobytes() for i in range(len(off)-1)], dtype=object)
        elif k.endswith('.valid'):
            continue
        else:
            v = g[k][:]
            if v.dtype.kind == 'S': v = np.array([x.rstrip(b'\0') for x in v], dtype=object)
            if k + '.valid' in g: v = np.where(g[k + '.valid'][:] == 1, v, None)
            out[k] = v
    return out
bad = 0
for t in ['analytics/country_month', 'analytics/country_sector_month', 'analytics/country_month_indicators', 'quality/rejects', 'quality/summary']:
    x, y = cols(a[t]), cols(b[t])
    if list(x.keys()) != list(y.keys()) and sorted(x) != sorted(y):
        print(t, 'columns differ', list(x), list(y)); bad += 1; continue
    for k in x:
        u, v = x[k], y[k]
        if len(u) != len(v): print(t, k, 'rows', len(u), len(v)); bad += 1; continue
        if u.dtype.kind == 'f' and v.dtype.kind == 'f':
            same = np.array_equal(u, v, equal_nan=True)
        else:
            same = all((p == q) or (p != p and q != q) for p, q in zip(u, v))
        if not same:
            i = next(i for i, (p, q) in enumerate(zip(u, v)) if not (p == q or (p != p and q != q)))
            print(t, k, 'differs at', i, u[i], v[i], u.dtype, v.dtype); bad += 1
    print(t, 'rows', len(next(iter(x.values()))), 'ok' if not bad else '')
sys.exit(1 if bad else 0)
