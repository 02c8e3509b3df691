#!/usr/bin/python3
"""Data of the operator benchmark: ops_gen.py N OUT_DIR [SEED]
OUT_DIR/x/part-00000.csv: id (1..N), g2 (1..100), g5 (1..100000), g7 (1..N), yid (1..N/10), v1 (1..1000),
v3 (uniform [0, 100), 6 decimals); OUT_DIR/y/part-00000.csv: id (1..N/10), w (1..1000). Uniform, seeded."""
import os
import sys

import numpy as np
import pandas as pd


def write(df, path, float_cols=()):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fmt = {c: (lambda v: f"{v:.6f}") for c in float_cols}
    with open(path + ".tmp", "w") as fh:
        for start in range(0, len(df), 1_000_000):  # bounded memory for the text
            part = df.iloc[start:start + 1_000_000]
            part.to_csv(fh, index=False, header=start == 0, float_format="%.6f")
    os.replace(path + ".tmp", path)
    del fmt


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    m = max(1, n // 10)
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({
        "id": np.arange(1, n + 1, dtype=np.int64),
        "g2": rng.integers(1, 101, n),
        "g5": rng.integers(1, 100_001, n),
        "g7": rng.integers(1, n + 1, n),
        "yid": rng.integers(1, m + 1, n),
        "v1": rng.integers(1, 1001, n),
        "v3": np.round(rng.random(n) * 100, 6),
    })
    y = pd.DataFrame({"id": np.arange(1, m + 1, dtype=np.int64), "w": rng.integers(1, 1001, m)})
    write(x, os.path.join(out, "x", "part-00000.csv"), ["v3"])
    write(y, os.path.join(out, "y", "part-00000.csv"))


if __name__ == "__main__":
    main()
