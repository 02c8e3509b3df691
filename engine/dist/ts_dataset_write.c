#include "ts_dataset_write.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ts_csv_write.h"
#include "ts_expr.h"
#include "ts_parquet_intern.h"
#include "ts_tmpfile.h"

static const char *ext_of(const ts_write_opts *o) { return o->format == TS_WRITE_PARQUET ? "parquet" : "csv"; }

/* ---- the target ---------------------------------------------------------------------------------------------------- */

static int dataset_entry(const char *name, int is_dir, int any_dirs)
{
    const size_t l = strlen(name);
    if (is_dir)
        return any_dirs || strchr(name, '=') != NULL;
    if (!strcmp(name, "_SUCCESS") || !strcmp(name, "_tessera") || (name[0] == '.' && strstr(name, ".tmp-")))
        return 1;
    return (l > 8 && !strcmp(name + l - 8, ".parquet")) || (l > 4 && !strcmp(name + l - 4, ".csv"));
}

/* Walks a dataset directory (any_dirs: sub-directories of any name, as a job's output has); removes what it holds
 * when remove is set (after a first pass found nothing else). */
static ts_err walk_dataset(const char *path, int remove, int any_dirs)
{
    DIR *d = opendir(path);
    if (!d)
        TS_FAIL(TS_ERR_IO, "cannot read directory %s: %s", path, strerror(errno));
    struct dirent *e;
    ts_err err = TS_OK;
    while (!err && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        struct stat st;
        if (lstat(p, &st) != 0)
            continue;
        const int dir = S_ISDIR(st.st_mode);
        if (!dataset_entry(e->d_name, dir, any_dirs) || (!dir && !S_ISREG(st.st_mode)))
            err = ts_error_raise(TS_ERR_IO, __FILE__, __LINE__, __func__, "refusing to overwrite %s: it holds %s, "
                                 "which is not part of a dataset (remove it yourself)", path, p);
        else if (dir)
            err = walk_dataset(p, remove, any_dirs);
        if (!err && remove && (dir ? rmdir(p) : unlink(p)) != 0)
            err = ts_error_raise(TS_ERR_IO, __FILE__, __LINE__, __func__, "cannot remove %s: %s", p, strerror(errno));
    }
    closedir(d);
    return err;
}

ts_err ts_remove_dataset_dir(const char *path)
{
    TS_TRY(walk_dataset(path, 0, 0));
    TS_TRY(walk_dataset(path, 1, 0));
    if (rmdir(path) != 0)
        TS_FAIL(TS_ERR_IO, "cannot remove %s: %s", path, strerror(errno));
    return TS_OK;
}

ts_err ts_remove_output_dir(const char *path, int check_only)
{
    char marker[PATH_MAX];
    struct stat st;
    snprintf(marker, sizeof marker, "%s/_tessera", path);
    if (stat(marker, &st) != 0)
        TS_FAIL(TS_ERR_IO, "refusing to replace %s: it is not a Tessera output directory (no _tessera file); remove "
                "it yourself", path);
    TS_TRY(walk_dataset(path, 0, 1));
    if (check_only)
        return TS_OK;
    TS_TRY(walk_dataset(path, 1, 1));
    if (rmdir(path) != 0)
        TS_FAIL(TS_ERR_IO, "cannot remove %s: %s", path, strerror(errno));
    return TS_OK;
}

static int dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return 0;
    struct dirent *e;
    int empty = 1;
    while (empty && (e = readdir(d)))
        empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
    closedir(d);
    return empty;
}

ts_err ts_write_check_target(const char *path, int if_exists, int single_file)
{
    struct stat st;
    if (!path || !*path)
        TS_FAIL(TS_ERR_USAGE, "no output path given");
    if (stat(path, &st) != 0) {
        if (errno != ENOENT)
            TS_FAIL(TS_ERR_IO, "cannot write %s: %s", path, strerror(errno));
        return TS_OK;
    }
    if (single_file) {
        if (S_ISDIR(st.st_mode))
            TS_FAIL(TS_ERR_IO, "cannot write the file %s: a directory of that name exists", path);
        if (if_exists != TS_WRITE_OVERWRITE)
            TS_FAIL(TS_ERR_IO, "%s exists (overwrite it with OVERWRITE, or --overwrite for jobs)", path);
        return TS_OK;
    }
    if (!S_ISDIR(st.st_mode))
        TS_FAIL(TS_ERR_IO, "cannot write the directory %s: a file of that name exists", path);
    if (if_exists == TS_WRITE_FAIL_IF_EXISTS && !dir_is_empty(path))
        TS_FAIL(TS_ERR_IO, "directory %s exists and is not empty (OVERWRITE replaces it, OVERWRITE_OR_IGNORE adds "
                "files; --overwrite for jobs)", path);
    if (if_exists == TS_WRITE_OVERWRITE)
        TS_TRY(walk_dataset(path, 0, 0)); /* refuse now, before any work, if it is not a dataset */
    return TS_OK;
}

/* mkdir -p (another rank may create the same directory at the same time). */
static ts_err make_dirs(const char *path)
{
    char p[PATH_MAX];
    if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p)
        TS_FAIL(TS_ERR_IO, "path too long: %.80s...", path);
    for (char *s = p + 1; ; s++) {
        const char c = *s;
        if (c != '/' && c != 0)
            continue;
        *s = 0;
        if (mkdir(p, 0755) != 0 && errno != EEXIST)
            TS_FAIL(TS_ERR_IO, "cannot create directory %s: %s", p, strerror(errno));
        *s = c;
        if (!c)
            break;
    }
    return TS_OK;
}

/* Rank 0: the directory exists and is ready (cleared when overwriting). */
static ts_err prepare_dir(const char *path, int if_exists)
{
    TS_TRY(ts_write_check_target(path, if_exists, 0));
    struct stat st;
    if (if_exists == TS_WRITE_OVERWRITE && stat(path, &st) == 0)
        TS_TRY(ts_remove_dataset_dir(path));
    return make_dirs(path);
}

static ts_err run_id(ts_ctx *ctx, const ts_write_opts *o, char id[40])
{
    if (o->run_id) {
        snprintf(id, 40, "%s", o->run_id);
        return TS_OK;
    }
    if (ctx->rank == 0) {
        uint8_t r[16];
        if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) { /* no entropy: time and pid are unique enough */
            const uint64_t a = (uint64_t)time(NULL), b = (uint64_t)getpid() * 0x9e3779b97f4a7c15u;
            memcpy(r, &a, 8), memcpy(r + 8, &b, 8);
        }
        r[6] = (uint8_t)((r[6] & 0x0f) | 0x40), r[8] = (uint8_t)((r[8] & 0x3f) | 0x80); /* a version-4 UUID */
        snprintf(id, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2],
                 r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
    }
    TS_MPI(MPI_Bcast(id, 40, MPI_CHAR, 0, ctx->comm));
    return TS_OK;
}

/* ---- files -------------------------------------------------------------------------------------------------------- */

static ts_err write_at(int fd, const void *data, size_t n, int64_t off, const char *path)
{
    const char *p = data;
    while (n) {
        const ssize_t k = pwrite(fd, p, n, (off_t)off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            TS_FAIL(TS_ERR_IO, "cannot write %s: %s", path, k < 0 ? strerror(errno) : "no progress");
        p += k, n -= (size_t)k, off += k;
    }
    return TS_OK;
}

/* One rank's whole file: written under a temporary name, then renamed. */
static ts_err write_file(const char *path, const void *head, size_t hlen, const void *body, size_t blen,
                         const void *tail, size_t tlen)
{
    char tmp[PATH_MAX + 32];
    const char *slash = strrchr(path, '/');
    const int dir = slash ? (int)(slash - path + 1) : 0;
    snprintf(tmp, sizeof tmp, "%.*s.%s.tmp-%d", dir, path, path + dir, (int)getpid());
    const int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        TS_FAIL(TS_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
    ts_err err = write_at(fd, head, hlen, 0, tmp);
    if (!err)
        err = write_at(fd, body, blen, (int64_t)hlen, tmp);
    if (!err)
        err = write_at(fd, tail, tlen, (int64_t)(hlen + blen), tmp);
    if (close(fd) != 0 && !err)
        err = ts_error_raise(TS_ERR_IO, __FILE__, __LINE__, __func__, "cannot write %s: %s", tmp, strerror(errno));
    if (!err && rename(tmp, path) != 0)
        err = ts_error_raise(TS_ERR_IO, __FILE__, __LINE__, __func__, "cannot rename %s to %s: %s", tmp, path,
                             strerror(errno));
    if (err)
        unlink(tmp);
    return err;
}

/* Rows rows[0..n) (all when NULL) of columns cols of t as one file at path. */
static ts_err write_part(const ts_table *t, const int *cols, int ncols, const int64_t *rows, int64_t n,
                         const char *path, const ts_write_opts *o)
{
    if (o->format == TS_WRITE_PARQUET) {
        const char *names[TS_MAX_COLS];
        for (int c = 0; c < ncols; c++)
            names[c] = t->cols[cols[c]]->name;
        ts_table *v;
        TS_TRY(ts_table_view(t, names, ncols, &v));
        const ts_err err = ts_pq_write_file(path, v, rows, rows ? n : ts_table_rows(t), &o->parquet);
        ts_table_free(v);
        return err;
    }
    ts_csv_writer w;
    TS_TRY(ts_csv_writer_init(&w, t, cols, ncols, o->delim ? o->delim : ','));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    ts_err err = o->header ? ts_csv_header(&w, &buf, &len, &cap) : TS_OK;
    if (!err)
        err = ts_csv_rows(&w, rows, n, &buf, &len, &cap);
    if (!err)
        err = write_file(path, "", 0, buf, len, "", 0);
    free(buf);
    ts_csv_writer_free(&w);
    return err;
}

/* ---- one file from all ranks ------------------------------------------------------------------------------------- */

/* This rank's bytes of the file (Parquet pages / CSV lines), its row groups' metadata (Parquet, relative offsets
 * fixed once the offset is known) and the header every rank computes alike. */
typedef struct single {
    ts_pq_writer pw;
    int has_pw;
    char *csv;
    size_t csv_len, csv_cap;
    char *head;
    size_t head_len, head_cap;
} single;

static ts_err encode_local(const ts_table *t, const ts_write_opts *o, single *s)
{
    int cols[TS_MAX_COLS];
    for (int c = 0; c < t->ncols; c++)
        cols[c] = c;
    if (o->format == TS_WRITE_PARQUET) {
        TS_TRY(ts_pq_writer_init(&s->pw, t, &o->parquet));
        s->has_pw = 1;
        return ts_table_rows(t) ? ts_pq_writer_add(&s->pw, t, NULL, 0) : TS_OK;
    }
    ts_csv_writer w;
    TS_TRY(ts_csv_writer_init(&w, t, cols, t->ncols, o->delim ? o->delim : ','));
    ts_err err = o->header ? ts_csv_header(&w, &s->head, &s->head_len, &s->head_cap) : TS_OK;
    if (!err)
        err = ts_csv_rows(&w, NULL, 0, &s->csv, &s->csv_len, &s->csv_cap);
    ts_csv_writer_free(&w);
    return err;
}

/* Rank 0: the Parquet footer from every rank's row groups (gathered). Others contribute their row groups. */
static ts_err parquet_footer(ts_ctx *ctx, single *s, int64_t base, int64_t total_rows, ts_thrift_writer *foot)
{
    ts_thrift_writer rg;
    ts_thrift_writer_init(&rg);
    ts_err err = ts_pq_writer_row_groups(&s->pw, base, &rg);
    int mine[2] = {(int)rg.len, s->pw.nrg}, *all = NULL, *cnt = NULL, *disp = NULL;
    uint8_t *bytes = NULL;
    if (!err && rg.len > INT_MAX)
        err = ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__, "Parquet metadata over 2 GiB on one rank");
    if (ctx->rank == 0 && !err) {
        all = malloc(sizeof *all * 2 * (size_t)ctx->size), cnt = malloc(sizeof *cnt * (size_t)ctx->size);
        disp = malloc(sizeof *disp * (size_t)ctx->size);
        if (!all || !cnt || !disp)
            err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    }
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = ts_mpi_status(MPI_Gather(mine, 2, MPI_INT, all, 2, MPI_INT, 0, ctx->comm), "MPI_Gather", __FILE__,
                            __LINE__, __func__);
    long long sum = 0;
    int nrg = 0;
    if (!err && ctx->rank == 0) {
        for (int r = 0; r < ctx->size; r++)
            cnt[r] = all[2 * r], disp[r] = (int)sum, sum += all[2 * r], nrg += all[2 * r + 1];
        if (sum > INT_MAX || !(bytes = malloc((size_t)sum + 1)))
            err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "Parquet metadata too large");
    }
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = ts_mpi_status(MPI_Gatherv(rg.buf, mine[0], MPI_BYTE, bytes, cnt, disp, MPI_BYTE, 0, ctx->comm),
                            "MPI_Gatherv", __FILE__, __LINE__, __func__);
    if (!err && ctx->rank == 0)
        err = ts_pq_writer_footer(&s->pw, bytes, (size_t)sum, nrg, total_rows, foot);
    free(all), free(cnt), free(disp), free(bytes);
    ts_thrift_writer_free(&rg);
    return err;
}

static ts_err write_single(ts_ctx *ctx, const ts_table *t, const char *path, const ts_write_opts *o,
                           ts_write_result *res)
{
    single s = {0};
    ts_thrift_writer foot;
    ts_thrift_writer_init(&foot);
    /* rank 0 owns the temporary as the HDF5 writer does (io/ts_tmpfile.h): an owner file that tells a live writer
     * from a dead one's leftovers, the whole file's space reserved before the writes, a publish that does not
     * replace a file another job created meanwhile (unless OVERWRITE) */
    ts_tmpfile tf;
    memset(&tf, 0, sizeof tf);
    tf.owner_fd = tf.tmp_fd = -1;
    char tmp[sizeof tf.tmp] = "";
    ts_err err = TS_OK;
    if (ctx->rank == 0 && !(err = ts_write_check_target(path, o->if_exists, 1)) &&
        !(err = ts_tmpfile_check_live(path))) {
        ts_tmpfile_remove_stale(path);
        if (!(err = ts_tmpfile_begin(path, 0, &tf)))
            snprintf(tmp, sizeof tmp, "%s", tf.tmp);
    }
    err = ts_ctx_check(ctx, err);
    if (!err)
        err = ts_ctx_check(ctx, encode_local(t, o, &s));
    int64_t mine[2] = {0, ts_table_rows(t)}, before[2] = {0, 0}, total[2] = {0, 0};
    mine[0] = o->format == TS_WRITE_PARQUET ? (int64_t)s.pw.len : (int64_t)s.csv_len;
    if (!err)
        err = ts_mpi_status(MPI_Exscan(mine, before, 2, MPI_INT64_T, MPI_SUM, ctx->comm), "MPI_Exscan", __FILE__,
                            __LINE__, __func__);
    if (!err)
        err = ts_mpi_status(MPI_Allreduce(mine, total, 2, MPI_INT64_T, MPI_SUM, ctx->comm), "MPI_Allreduce",
                            __FILE__, __LINE__, __func__);
    if (ctx->rank == 0)
        before[0] = before[1] = 0; /* MPI_Exscan leaves rank 0's result undefined */
    const int64_t head = o->format == TS_WRITE_PARQUET ? 4 : (int64_t)s.head_len, base = head + before[0];
    if (!err && o->format == TS_WRITE_PARQUET)
        err = parquet_footer(ctx, &s, base, total[1], &foot);
    if (!err)
        err = ts_mpi_status(MPI_Bcast(tmp, (int)sizeof tmp, MPI_CHAR, 0, ctx->comm), "MPI_Bcast", __FILE__, __LINE__,
                            __func__);
    int fd = -1;
    if (!err && ctx->rank == 0 && (fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
        err = ts_error_raise(TS_ERR_IO, __FILE__, __LINE__, __func__, "cannot create %s: %s", tmp, strerror(errno));
    if (!err && ctx->rank == 0 && !(err = ts_tmpfile_opened(&tf)))
        err = ts_tmpfile_reserve(&tf, head + total[0] + (o->format == TS_WRITE_PARQUET ? (int64_t)foot.len : 0),
                                 "the COPY output");
    err = ts_ctx_check(ctx, err);
    if (!err && ctx->rank != 0 && (fd = open(tmp, O_WRONLY | O_CLOEXEC)) < 0)
        err = ts_error_raise(TS_ERR_IO, __FILE__, __LINE__, __func__, "cannot open %s: %s", tmp, strerror(errno));
    if (!err)
        err = write_at(fd, o->format == TS_WRITE_PARQUET ? (const void *)s.pw.buf : s.csv, (size_t)mine[0], base,
                       tmp);
    if (!err && ctx->rank == 0)
        err = o->format == TS_WRITE_PARQUET ? write_at(fd, "PAR1", 4, 0, tmp)
                                            : write_at(fd, s.head, s.head_len, 0, tmp);
    if (!err && ctx->rank == 0 && o->format == TS_WRITE_PARQUET)
        err = write_at(fd, foot.buf, foot.len, head + total[0], tmp);
    if (fd >= 0 && close(fd) != 0 && !err)
        err = ts_error_raise(TS_ERR_IO, __FILE__, __LINE__, __func__, "cannot write %s: %s", tmp, strerror(errno));
    err = ts_ctx_check(ctx, err);
    if (!err && ctx->rank == 0)
        err = ts_tmpfile_publish(&tf, o->if_exists == TS_WRITE_OVERWRITE);
    if (ctx->rank == 0)
        ts_tmpfile_discard(&tf); /* after a failure; a no-op once published */
    err = ts_ctx_check(ctx, err);
    if (s.has_pw)
        ts_pq_writer_free(&s.pw);
    free(s.csv), free(s.head);
    ts_thrift_writer_free(&foot);
    res->rows = total[1], res->files = 1;
    return err;
}

/* ---- a directory ---------------------------------------------------------------------------------------------------- */

/* Hive's escaping of path values (Spark's escapePathName). */
static void escape_value(const char *s, int64_t n, char *out, size_t cap)
{
    static const char special[] = "\"#%'*/:=?\\{[]^";
    size_t o = 0;
    for (int64_t i = 0; i < n && o + 4 < cap; i++) {
        const unsigned char c = (unsigned char)s[i];
        if (c < 32 || c == 0x7f || strchr(special, c))
            o += (size_t)snprintf(out + o, cap - o, "%%%02X", c);
        else
            out[o++] = (char)c;
    }
    out[o] = 0;
}

/* Partition of every row (codes in first-seen order) and each partition's directory. */
typedef struct parts {
    int32_t *code;     /* per row */
    int64_t nparts;
    char **dir;        /* "k1=v1/k2=v2" per partition */
} parts;

static void parts_free(parts *p)
{
    for (int64_t i = 0; p->dir && i < p->nparts; i++)
        free(p->dir[i]);
    free(p->code), free(p->dir);
}

static ts_err partition_rows(const ts_table *t, const int *keys, int nkeys, parts *out)
{
    memset(out, 0, sizeof *out);
    const int64_t n = ts_table_rows(t);
    ts_column *text[8] = {0};
    ts_pq_intern in;
    ts_err err = ts_pq_intern_init(&in, INT64_MAX);
    if (err)
        return err;
    for (int k = 0; !err && k < nkeys; k++) {
        const ts_column *c = t->cols[keys[k]];
        ts_expr *e = ts_x_cast(ts_x_col(c->name), TS_T_STRING, 0, 0);
        err = e ? ts_expr_eval(e, t, c->name, &text[k])
                : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
        ts_expr_free(e);
    }
    out->code = malloc(sizeof *out->code * (size_t)(n + 1));
    char *key = malloc(1 << 16);
    if (!err && (!out->code || !key))
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    for (int64_t r = 0; !err && r < n; r++) {
        size_t kl = 0;
        for (int k = 0; k < nkeys; k++) {
            const int valid = ts_column_is_valid(t->cols[keys[k]], r);
            const int64_t *off = TS_COL(text[k], int64_t);
            int64_t l = valid ? off[r + 1] - off[r] : 0;
            if (l > 4000)
                l = 4000; /* directory names are short anyway: a longer value is an error below */
            key[kl++] = (char)valid;
            memcpy(key + kl, &l, sizeof l), kl += sizeof l;
            memcpy(key + kl, text[k]->bytes + off[r], (size_t)l), kl += (size_t)l;
        }
        const ts_pq_sv sv = {(const uint8_t *)key, (uint32_t)kl};
        int full;
        err = ts_pq_intern_codes(&in, &sv, 1, &out->code[r], &full);
        if (!err && out->code[r] == (int32_t)in.values->len - 1 && out->code[r] >= out->nparts) {
            /* a new partition: its directory */
            char **d = realloc(out->dir, sizeof *d * (size_t)(out->nparts + 1));
            char *path = malloc(PATH_MAX);
            if (d)
                out->dir = d;
            if (!d || !path) {
                free(path);
                err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
                break;
            }
            size_t at = 0;
            path[0] = 0;
            for (int k = 0; k < nkeys && !err; k++) {
                char val[PATH_MAX];
                const int64_t *off = TS_COL(text[k], int64_t);
                if (!ts_column_is_valid(t->cols[keys[k]], r))
                    snprintf(val, sizeof val, "__HIVE_DEFAULT_PARTITION__");
                else if (off[r + 1] - off[r] > 255)
                    err = ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__, "PARTITION_BY: a value of "
                                         "'%s' is longer than 255 bytes (too long for a directory name)",
                                         t->cols[keys[k]]->name);
                else
                    escape_value(text[k]->bytes + off[r], off[r + 1] - off[r], val, sizeof val);
                at += (size_t)snprintf(path + at, PATH_MAX - at, "%s%s=%s", k ? "/" : "", t->cols[keys[k]]->name, val);
            }
            out->dir[out->nparts++] = path;
        }
    }
    free(key);
    for (int k = 0; k < nkeys; k++)
        ts_column_free(text[k]);
    ts_pq_intern_free(&in);
    return err;
}

static ts_err write_dir(ts_ctx *ctx, const ts_table *t, const char *path, const ts_write_opts *o,
                        ts_write_result *res)
{
    char id[40], file[2 * PATH_MAX + 128];
    if (strlen(path) > PATH_MAX - 300)
        TS_FAIL(TS_ERR_USAGE, "output path too long: %.80s...", path);
    TS_TRY(ts_ctx_check(ctx, ctx->rank == 0 ? prepare_dir(path, o->if_exists) : TS_OK));
    TS_TRY(run_id(ctx, o, id));
    int keys[8], cols[TS_MAX_COLS], nk = 0, nc = 0;
    ts_err err = TS_OK;
    for (int k = 0; !err && k < o->npartition; k++) {
        int c = 0;
        while (c < t->ncols && strcmp(t->cols[c]->name, o->partition_by[k]))
            c++;
        if (c == t->ncols)
            err = ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__, "PARTITION_BY: no column '%s'",
                                 o->partition_by[k]);
        else if (nk == 8)
            err = ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__, "PARTITION_BY: at most 8 columns");
        else
            keys[nk++] = c;
    }
    for (int c = 0; c < t->ncols; c++) {
        int key = 0;
        for (int k = 0; k < nk; k++)
            key |= keys[k] == c;
        if (!key)
            cols[nc++] = c;
    }
    if (!err && nc == 0)
        err = ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__, "PARTITION_BY: every column is a partition "
                             "key; nothing would be left to write in the files");
    int64_t files = 0;
    const int64_t n = ts_table_rows(t);
    if (!err && nk == 0 && (n > 0 || ctx->rank == 0)) {
        snprintf(file, sizeof file, "%s/part-%05d-%s.%s", path, ctx->rank, id, ext_of(o));
        err = write_part(t, cols, nc, NULL, 0, file, o);
        files += !err;
    } else if (!err && nk > 0) {
        parts p;
        err = partition_rows(t, keys, nk, &p);
        /* rows grouped by partition, in row order within each (a counting sort) */
        int64_t *start = err ? NULL : calloc((size_t)p.nparts + 1, sizeof *start);
        int64_t *order = err ? NULL : malloc(sizeof *order * (size_t)(n + 1));
        if (!err && (!start || !order))
            err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
        for (int64_t r = 0; !err && r < n; r++)
            start[p.code[r] + 1]++;
        for (int64_t q = 0; !err && q < p.nparts; q++)
            start[q + 1] += start[q];
        for (int64_t r = 0; !err && r < n; r++)
            order[start[p.code[r]]++] = r;
        for (int64_t q = p.nparts - 1; !err && q > 0; q--) /* back to each partition's start */
            start[q] = start[q - 1];
        if (!err && p.nparts)
            start[0] = 0;
        for (int64_t q = 0; !err && q < p.nparts; q++) {
            const int64_t end = q + 1 < p.nparts ? start[q + 1] : n;
            char dir[2 * PATH_MAX];
            snprintf(dir, sizeof dir, "%s/%s", path, p.dir[q]);
            err = strlen(dir) >= PATH_MAX - 64 ? ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__,
                                                                 "partition directory too long: %.80s...", dir)
                                               : make_dirs(dir);
            if (!err) {
                snprintf(file, sizeof file, "%s/part-%05d-%s.%s", dir, ctx->rank, id, ext_of(o));
                err = write_part(t, cols, nc, order + start[q], end - start[q], file, o);
                files += !err;
            }
        }
        free(start), free(order);
        parts_free(&p);
    }
    err = ts_ctx_check(ctx, err);
    if (!err && ctx->rank == 0) {
        snprintf(file, sizeof file, "%s/_SUCCESS", path);
        err = write_file(file, "", 0, "", 0, "", 0);
    }
    TS_TRY(ts_ctx_check(ctx, err));
    int64_t loc[2] = {n, files}, glob[2];
    TS_MPI(MPI_Allreduce(loc, glob, 2, MPI_INT64_T, MPI_SUM, ctx->comm));
    res->rows = glob[0], res->files = glob[1];
    return TS_OK;
}

ts_err ts_write_dataset(ts_ctx *ctx, const ts_table *t, const char *path, const ts_write_opts *o,
                        ts_write_result *res)
{
    ts_write_result r = {0, 0};
    if (!res)
        res = &r;
    if (o->single_file && o->npartition)
        TS_FAIL(TS_ERR_USAGE, "PARTITION_BY writes a directory, not the single file %s", path);
    return o->single_file ? write_single(ctx, t, path, o, res) : write_dir(ctx, t, path, o, res);
}
