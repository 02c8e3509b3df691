#!/usr/bin/env python3
"""scaling.py: the analysis half of scripts/bench/scaling.sh (standard library only).

  scaling.py fit BENCH.txt...            least-squares fit of T = a0 + alpha*(P-1) + beta*bytes_off over the
                                         exchange_bench lines (kind "exchange"), with residuals
  scaling.py bank RUNS.tsv               weak-scaling table (median per rank count) and per-stage breakdown
  scaling.py monitor PREFIX...           bytes and messages per rank from Open MPI's pml monitoring files
                                         (PREFIX.<rank>.prof)
  scaling.py tpchtab WORK Q...           per query: 2-rank seconds, bytes over all ranks on 2 and 4 ranks,
                                         messages per rank on 2 and 4 ranks, the load.sql run subtracted
  scaling.py model --alpha A --beta B --bank RUNS.tsv --keys KEYROWS --tpch TPCH.tsv [--bank-count FILE]
                                         the cost model's projection to 1,024 ranks (docs/scaling.md)

Exit status 0, 2 on a usage error or unreadable input."""
import math
import os
import random
import re
import statistics
import sys

UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}


def fail(msg):
    print("scaling.py: " + msg, file=sys.stderr)
    sys.exit(2)


def size(text):
    num, unit = text.split()
    return float(num) * UNITS[unit]


# ---- Tessera's --profile table ------------------------------------------------------------------------------------
PROFILE_ROW = re.compile(
    r"^(\S+)\s+.*?\s([\d.]+)/([\d.]+)\s+(\d+)/(\d+)\s+(\d+)/(\d+)\s+([\d.]+ \w+)/([\d.]+ \w+)\s+([\d.]+ \w+)/([\d.]+ \w+)"
    r"(?:\s+([\d.]+ \w+)/([\d.]+ \w+))?\s*$")  # sent, then (since the profile has a received column) received, peak RSS


def parse_profile(text):
    """{stage: {...}} and the total seconds, from `tessera run ... --profile` output."""
    stages, total = {}, None
    for line in text.splitlines():
        m = PROFILE_ROW.match(line)
        if m:
            g = m.groups()
            stages[g[0]] = {"tmin": float(g[1]), "tmax": float(g[2]), "in_min": int(g[3]), "in_max": int(g[4]),
                            "out_min": int(g[5]), "out_max": int(g[6]), "sent_min": size(g[7]),
                            "sent_max": size(g[8]), "rss_max": size(g[12] if g[12] else g[10])}
        elif line.startswith("total "):
            total = float(line.split()[1])
    return stages, total


# ---- Open MPI pml monitoring ----------------------------------------------------------------------------------------
def parse_monitor(prefix):
    """[(bytes, msgs)] per rank: every point-to-point message a rank sent, collectives' included (lines I and E)."""
    d, base = os.path.dirname(prefix) or ".", os.path.basename(prefix)
    files = sorted((f for f in os.listdir(d) if re.fullmatch(re.escape(base) + r"\.\d+\.prof", f)),
                   key=lambda f: int(f.split(".")[-2]))
    if not files:
        fail("no monitoring files %s.<rank>.prof" % prefix)
    out = []
    for f in files:
        b = m = 0
        for line in open(os.path.join(d, f)):
            p = line.split("\t")
            if p[0] in ("I", "E"):
                b += int(p[3].split()[0])
                m += int(p[4].split()[0])
        out.append((b, m))
    return out


def cmd_monitor(prefixes):
    print("%-40s %5s %16s %16s %10s %10s" % ("run", "ranks", "bytes/rank max", "bytes total", "msgs max",
                                              "msgs total"))
    for p in prefixes:
        r = parse_monitor(p)
        print("%-40s %5d %16d %16d %10d %10d" % (os.path.basename(p), len(r), max(b for b, _ in r),
                                                  sum(b for b, _ in r), max(m for _, m in r), sum(m for _, m in r)))


# Bytes at SF 1 of the join inputs that a broadcast plan leaves in place but that move once the broadcast side
# exceeds ts_join's 64 MiB threshold (at SF 1000): estimated from the schema, not measured. q03: lineitem rows with
# l_shipdate > 1995-03-15 (3.24M x orderkey, extendedprice, discount = 24 B) + orders before that date (1.46M x 24 B);
# q09: lineitem (6.0M x partkey, suppkey, orderkey, quantity, extendedprice, discount = 48 B) + partsupp (0.8M x 24 B)
# + orders (1.5M x orderkey, orderdate = 12 B).
FLIP_SF1 = {"q03": 113e6, "q09": 325e6}


def cmd_tpchtab(work, queries):
    def mon(q, p):
        r = parse_monitor(os.path.join(work, "mon", "tpch-%s-%d" % (q, p)))
        return sum(b for b, _ in r), max(m for _, m in r)

    print("# query seconds_2ranks bytes_total_2 bytes_total_4 msgs_per_rank_2 msgs_per_rank_4 flip_bytes_sf1")
    b2l, m2l = mon("load", 2)
    b4l, m4l = mon("load", 4)
    for q in queries:
        t = 0.0
        for line in open(os.path.join(work, "logs", "tpch-%s-2.err" % q)):
            p = line.split()
            if len(p) == 4 and p[0] == "stmt" and int(p[1]) > 8:  # load.sql has 8 statements
                t += float(p[3])
        b2, m2 = mon(q, 2)
        b4, m4 = mon(q, 4)
        print("%s %.3f %d %d %d %d %d" % (q, t, b2 - b2l, b4 - b4l, m2 - m2l, m4 - m4l, FLIP_SF1.get(q, 0)))


def lin_log(m2, m4):
    """Messages per rank on 2 and 4 ranks -> (all-to-all calls, tree-collective calls): an all-to-all sends P-1
    messages a rank (1, then 3), a tree collective (recursive doubling, binomial) log2 P (1, then 2)."""
    lin = max(0.0, m4 - 2.0 * m2)
    return lin, max(0.0, m2 - lin)


# ---- least squares --------------------------------------------------------------------------------------------------
def lstsq(rows, ys):
    """Solves the normal equations (small, dense) for x minimising |A x - y|."""
    n = len(rows[0])
    ata = [[sum(r[i] * r[j] for r in rows) for j in range(n)] for i in range(n)]
    aty = [sum(r[i] * y for r, y in zip(rows, ys)) for i in range(n)]
    for c in range(n):  # Gauss-Jordan with partial pivoting
        piv = max(range(c, n), key=lambda k: abs(ata[k][c]))
        ata[c], ata[piv], aty[c], aty[piv] = ata[piv], ata[c], aty[piv], aty[c]
        for k in range(n):
            if k != c and ata[c][c]:
                f = ata[k][c] / ata[c][c]
                ata[k] = [a - f * b for a, b in zip(ata[k], ata[c])]
                aty[k] -= f * aty[c]
    return [aty[i] / ata[i][i] for i in range(n)]


def read_bench(paths):
    pts = []
    for path in paths:
        for line in open(path):
            p = line.split()
            if len(p) == 4 and not line.startswith("#"):
                pts.append((p[0], int(p[1]), int(p[2]), float(p[3])))
    return pts


def fit_exchange(pts, p_fit=2):
    """alpha (s per message) and beta (s per byte leaving the rank) of T = alpha*(P-1) + beta*bytes_off, fitted
    to the 'exchange' points on p_fit ranks by least squares on relative residuals (every size weighs alike);
    beta_big, by ordinary least squares on the points of 16 MiB and more per rank only (out of cache: what
    columns of millions of rows see). Returns (alpha, beta, beta_big, residuals of every P >= 2)."""
    ex = [(p, b, t) for k, p, b, t in pts if k == "exchange" and p >= 2]
    fit = [(p, b, t) for p, b, t in ex if p == p_fit]
    if len(fit) < 3:
        fail("need at least 3 exchange points on %d ranks" % p_fit)
    alpha, beta = lstsq([[(p - 1.0) / t, b * (p - 1.0) / p / t] for p, b, t in fit], [1.0] * len(fit))
    big = [(p, b, t) for p, b, t in fit if b >= 16 << 20]
    beta_big = beta
    if len(big) >= 1:  # through the latency term fitted above
        beta_big = sum((t - alpha * (p - 1)) * b * (p - 1) / p for p, b, t in big) / \
            sum((b * (p - 1) / p) ** 2 for p, b, t in big)
    res = []
    for p, b, t in ex:
        off = b * (p - 1.0) / p
        f = alpha * (p - 1) + (beta_big if b >= 16 << 20 else beta) * off
        res.append((p, b, t, f))
    return alpha, beta, beta_big, res


def cmd_fit(paths):
    pts = read_bench(paths)
    for k in ("allreduce8", "alltoall8", "allgather"):
        for kind, p, b, t in pts:
            if kind == k:
                print("%-10s P=%d %9d B/rank %10.2f us" % (k, p, b, t * 1e6))
    alpha, beta, beta_big, res = fit_exchange(pts)
    print("\nfit on 2 ranks: T = alpha*(P-1) + beta*bytes_off,  bytes_off = bytes_per_rank*(P-1)/P")
    print("alpha = %.3f us/message   beta = %.4f ns/byte (%.2f GB/s)   beta_big = %.4f ns/byte (%.2f GB/s, >= 16 MiB)"
          % (alpha * 1e6, beta * 1e9, 1e-9 / beta, beta_big * 1e9, 1e-9 / beta_big))
    print("| ranks | bytes/rank | measured us | model us | residual |")
    print("|---:|---:|---:|---:|---:|")
    for p, b, t, f in res:
        print("| %d | %d | %.1f | %.1f | %+.0f %% |" % (p, b, t * 1e6, f * 1e6, 100 * (t - f) / t))
    for q in sorted({p for p, _, _, _ in res}):
        rel = [abs(t - f) / t for p, b, t, f in res if p == q]
        print("P=%d: median |residual| %.0f %%, max %.0f %%" % (q, 100 * statistics.median(rel), 100 * max(rel)))
    return alpha, beta, beta_big


# ---- bank-analytics runs --------------------------------------------------------------------------------------------
# RUNS.tsv: ranks rows rep wall_s cpu_s log_path  (written by scaling.sh)
STAGES = ["reference", "scan+clean", "dedup", "project", "exchange", "aggregate", "fx-join", "sort", "indicators",
          "write"]


def read_runs(path):
    runs = {}
    for line in open(path):
        p = line.split("\t")
        if len(p) < 6 or line.startswith("#"):
            continue
        stages, total = parse_profile(open(p[5].strip()).read())
        runs.setdefault(int(p[0]), []).append({"rows": int(p[1]), "wall": float(p[3]), "cpu": float(p[4]),
                                               "stages": stages, "total": total})
    if not runs:
        fail("no runs in %s" % path)
    return runs


def median_stage(rs, stage, field="tmax"):
    return statistics.median(r["stages"].get(stage, {}).get(field, 0.0) for r in rs)


def cmd_bank(path):
    runs = read_runs(path)
    ranks = sorted(runs)
    r1 = ranks[0]
    t1 = statistics.median(r["total"] for r in runs[r1])
    w1 = statistics.median(r["wall"] for r in runs[r1])
    c1 = statistics.median(r["cpu"] for r in runs[r1])
    print("weak scaling, bank-analytics (median of %s runs per point)" % "/".join(str(len(runs[r])) for r in ranks))
    print("| ranks | rows | rows/rank | profile total s | efficiency | wall s (mpirun) | efficiency | CPU s/rank |"
          " CPU efficiency |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for p in ranks:
        rs = runs[p]
        t = statistics.median(r["total"] for r in rs)
        w = statistics.median(r["wall"] for r in rs)
        c = statistics.median(r["cpu"] for r in rs) / p
        print("| %d | %d | %d | %.2f | %.0f %% | %.2f | %.0f %% | %.2f | %.0f %% |" % (
            p, rs[0]["rows"], rs[0]["rows"] // p, t, 100 * t1 / t, w, 100 * w1 / w, c, 100 * c1 / c))
    print("\nper stage: max over ranks of the stage time (median of the runs), s; sent = bytes a rank sent, max")
    print("| stage | " + " | ".join("%d rank%s s" % (p, "s" if p > 1 else "") for p in ranks) + " | " +
          " | ".join("sent %dr" % p for p in ranks if p > 1) + " |")
    print("|---|" + "---:|" * (2 * len(ranks) - 1))
    for s in STAGES:
        print("| %s | " % s + " | ".join("%.3f" % median_stage(runs[p], s) for p in ranks) + " | " +
              " | ".join("%.1f MiB" % (median_stage(runs[p], s, "sent_max") / 2**20) for p in ranks if p > 1) + " |")
    return runs


# ---- the model ------------------------------------------------------------------------------------------------------
def max_load_factor(weights, p, trials=200, seed=1):
    """Expected (max rows on a rank) / (mean rows per rank) when keys of these weights are hashed onto p ranks
    (uniform hashing; Monte Carlo)."""
    if p == 1:
        return 1.0
    rnd = random.Random(seed)
    total = float(sum(weights))
    acc = 0.0
    for _ in range(trials):
        load = [0.0] * p
        for w in weights:
            load[rnd.randrange(p)] += w
        acc += max(load) / (total / p)
    return acc / trials


def comm_time(net, p, bytes_off, n_lin, n_log):
    """Exchange time per rank: n_lin all-to-all calls of P-1 messages each, n_log tree collectives of log2 P
    steps, bytes_off bytes leaving the rank; intra-node bytes at the shared-memory beta, inter-node at the
    network's per-rank share of the node's injection bandwidth."""
    if p == 1:
        return 0.0
    lg = math.ceil(math.log2(p))
    rpn = min(p, net["ranks_per_node"])
    inter = (p - rpn) / (p - 1)  # share of a rank's peers on other nodes
    alpha = net["alpha_shm"] * (1 - inter) + net["alpha_net"] * inter
    beta_inter = rpn / net["node_bw"]  # the node's NIC is shared by its ranks
    t_bytes = bytes_off * ((1 - inter) * net["beta_shm"] + inter * beta_inter)
    return alpha * (n_lin * (p - 1) + n_log * lg) + t_bytes


def fmt_row(cells):
    return "| " + " | ".join(cells) + " |"


def cmd_model(argv):
    a = {}
    it = iter(argv)
    for k in it:
        a[k.lstrip("-")] = next(it, None)
    for need in ("alpha", "beta", "bank", "keys", "tpch"):
        if not a.get(need):
            fail("model needs --" + need)
    alpha_shm, beta_shm = float(a["alpha"]), float(a["beta"])
    net = {"alpha_shm": alpha_shm, "beta_shm": beta_shm, "alpha_net": float(a.get("alpha-net") or 2e-6),
           "node_bw": float(a.get("node-bw") or 12.5e9), "ranks_per_node": int(a.get("ranks-per-node") or 32)}
    runs = read_runs(a["bank"])
    weights = [int(x) for x in open(a["keys"]).read().split()]
    ps = [2 ** i for i in range(11)]

    # bank job: per-row compute from the 1-rank run (no exchange there), bytes per row from the 2-rank run
    r1, r2 = runs[min(runs)], runs.get(2)
    if not r2:
        fail("model needs 2-rank bank runs")
    n1 = r1[0]["rows"]
    per_row = {s: median_stage(r1, s) / n1 for s in STAGES}
    fixed = {s: median_stage(r1, s) for s in ("reference", "fx-join", "sort", "indicators", "write")}
    rows2 = r2[0]["rows"] / 2
    # bytes a rank sends at P=2 is half of what it shuffles: shuffled bytes per input row
    shuffle_b = {s: 2 * median_stage(r2, s, "sent_max") / rows2 for s in ("dedup", "exchange")}
    n_total = 1e10
    print("bank-analytics at 10^10 rows: shuffled bytes per input row: dedup %.1f, exchange %.1f (from the 2-rank "
          "profile)" % (shuffle_b["dedup"], shuffle_b["exchange"]))
    print("per-row compute from the 1-rank run (us/row): " +
          ", ".join("%s %.3f" % (s, per_row[s] * 1e6) for s in ("scan+clean", "dedup", "project", "exchange",
                                                                  "aggregate")))
    # collectives per run, from the monitored 2- and 4-rank runs (n_lin: all-to-all, n_log: tree collectives)
    # collective calls per run, counted by scripts/bench/mpi_count.c on rank 0 of the 2-rank run (HDF5's and
    # MPI-IO's included): all-to-all calls cost P-1 messages, the others log2 P steps; allgathers also receive
    # (P-1) times what each rank contributes
    cnt = {}
    if a.get("bank-count"):
        for line in open(a["bank-count"]):
            k, c, b = line.split()
            cnt[k] = (int(c), int(b))
    n_lin = sum(cnt.get(k, (0, 0))[0] for k in ("alltoallv", "alltoall"))
    n_log = sum(c for k, (c, _) in cnt.items() if k not in ("alltoallv", "alltoall"))
    gathered = sum(cnt.get(k, (0, 0))[1] for k in ("allgather", "allgatherv"))
    print("collective calls per run (2-rank count): %d all-to-all, %d others (%s); allgathered %d bytes per rank"
          % (n_lin, n_log, ", ".join("%s %d" % (k, c) for k, (c, _) in sorted(cnt.items()) if c), gathered))
    csv_row = float(a.get("csv-bytes-per-row") or 83)
    fs_bw = float(a.get("fs-bw") or 100e9)
    print("file system: %.0f GB/s aggregate read bandwidth assumed, %.0f bytes of CSV a row" % (fs_bw / 1e9, csv_row))
    print(fmt_row(["P", "rows/rank", "compute s", "key imbalance", "scan s (CPU or file system)", "exchange s",
                   "of which latency s", "modelled s", "efficiency", "balanced keys"]))
    print("|" + "---:|" * 10)
    bank_eff = {}
    for p in ps:
        nr = n_total / p

        def t_at(lf):
            scan = max(per_row["scan+clean"] * nr, n_total * csv_row / fs_bw)
            compute = scan + sum(per_row[s] * nr for s in ("dedup", "project", "exchange")) + \
                per_row["aggregate"] * nr * lf + sum(fixed.values())
            off = (p - 1) / p
            # + the sample sorts' samples: 32 rows per rank per destination (ts_sort.c), ~24 bytes a row, 3 sorts
            bytes_off = nr * off * (shuffle_b["dedup"] + shuffle_b["exchange"] * lf) + gathered * (p - 1) + \
                3 * 32 * 24 * (p - 1)
            comm = comm_time(net, p, bytes_off, n_lin, n_log)
            return scan, compute, comm

        lf = max_load_factor(weights, p)
        ideal = sum(per_row[s] * nr for s in ("scan+clean", "dedup", "project", "exchange", "aggregate")) + \
            sum(fixed.values())
        scan, compute, comm = t_at(lf)
        _, c1, m1 = t_at(1.0)
        lat = comm_time(dict(net, beta_shm=0, node_bw=float("inf")), p, 0, n_lin, n_log)
        bank_eff[p] = ideal / (compute + comm)
        print(fmt_row(["%d" % p, "%.3g" % nr, "%.1f" % compute, "%.2f" % lf, "%.1f" % scan, "%.2f" % comm,
                       "%.4f" % lat, "%.1f" % (compute + comm), "%.0f %%" % (100 * ideal / (compute + comm)),
                       "%.0f %%" % (100 * ideal / (c1 + m1))]))

    # TPC-H: per query, shuffled (S) and replicated (Bc) bytes at SF 1 from the monitored 2- and 4-rank runs
    print("\nTPC-H SF 1000 (bytes from SF 1 runs scaled by 1000; compute = the 2-rank SF 1 time x 2 x 1000 / P)")
    for line in open(a["tpch"]):
        if line.startswith("#") or not line.strip():
            continue
        f = line.split()
        q, (t2, b2, b4, m2, m4) = f[0], map(float, f[1:6])
        flip = float(f[6]) if len(f) > 6 else 0.0  # bytes (SF 1) of the big sides that shuffle once broadcasts flip
        # total bytes over the ranks: P=2: S/2 + Bc, P=4: 3S/4 + 3Bc (S shuffled once, Bc sent to every other rank)
        bc = (b4 - 1.5 * b2) / 1.5
        s = 2 * (b2 - bc)
        if bc < 0:  # no replicated part visible: all shuffled
            s, bc = 2 * b2, 0.0
        # messages per rank: P=2: lin + log; P=4: 3 lin + 2 log
        lin, log = lin_log(m2, m4)
        sf = 1000.0
        # at SF 1000 a replicated side of more than 64 MiB is shuffled instead (ts_join's broadcast threshold)
        s_big, bc_big = s * sf, bc * sf
        if bc_big > 64 * 2**20:
            s_big, bc_big = s_big + bc_big + flip * sf, 0.0
        print("%s: SF1 2 ranks %.2f s; shuffled %.1f MiB, replicated %.1f MiB per copy; all-to-all calls %.0f, "
              "tree-collective steps %.0f" % (q, t2, s / 2**20, bc / 2**20, lin, log))
        print(fmt_row(["P", "compute s", "exchange s", "of which latency s", "bytes/rank MiB", "modelled s",
                       "efficiency"]))
        print("|" + "---:|" * 7)
        for p in ps:
            compute = t2 * 2 * sf / p
            bytes_off = s_big / p * (p - 1) / p + bc_big * (p - 1) / p * (1 if p > 1 else 0)
            comm = comm_time(net, p, bytes_off, lin, log)
            lat = comm_time(dict(net, beta_shm=0, node_bw=float("inf")), p, 0, lin, log)
            print(fmt_row(["%d" % p, "%.2f" % compute, "%.2f" % comm, "%.3f" % lat, "%.1f" % (bytes_off / 2**20),
                           "%.2f" % (compute + comm), "%.0f %%" % (100 * compute / (compute + comm))]))
    return bank_eff


def main():
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0 if len(sys.argv) >= 2 else 2)
    cmd, rest = sys.argv[1], sys.argv[2:]
    if cmd == "fit" and rest:
        cmd_fit(rest)
    elif cmd == "bank" and len(rest) == 1:
        cmd_bank(rest[0])
    elif cmd == "tpchtab" and len(rest) >= 2:
        cmd_tpchtab(rest[0], rest[1:])
    elif cmd == "monitor" and rest:
        cmd_monitor(rest)
    elif cmd == "model":
        cmd_model(rest)
    else:
        fail("unknown command or arguments (see --help)")


if __name__ == "__main__":
    main()
