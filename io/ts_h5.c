/* Parallel HDF5 table writer (layout contract: docs/hdf5-layout.md).
 *
 * One group per table, one 1-D chunked shuffle+deflate(1) dataset per column, every dataset written with one
 * collective H5Dwrite in which each rank writes its slab at the exclusive prefix sum of row counts.
 *
 * Error discipline: a rank-local step (allocation, validation, one rank's HDF5 call) may fail on some ranks
 * only, so every such step is followed by agree() (an MPI_Allreduce) before the next collective call. A
 * function that makes collective calls returns an error that is already identical on every rank; its
 * callers must not agree() on it a second time.
 *
 * HDF5's automatic error printing is switched off (process-wide) in ts_h5_create; h5_fail() folds the
 * HDF5 error stack into one line of the ts_err message instead. */
#include "ts_h5.h"
#include "ts_h5_error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "ts_ctx.h"
#include "ts_fault.h"
#include "ts_mem.h"
#include "ts_tmpfile.h"

/* Columns go from memory to file without conversion (a conversion breaks collective filtered writes), and
 * the file types are little-endian. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "ts_h5 writes column memory as little-endian data");

#ifndef TS_VERSION
#define TS_VERSION "unknown"
#endif

#define CHUNK_BYTES ((hsize_t)1 << 20) /* suits default reader chunk caches */
#define DEFLATE_LEVEL 1                /* ~2x faster than 6 for a few % of size */
#define META_MAX (1 << 20)             /* bound on the strings rank 0 broadcasts */
#define DATE_UNITS "days since 1970-01-01"
#define TIMESTAMP_UNITS "microseconds since 1970-01-01 00:00:00"
/* Open MPI <= 5.0.9 formats "<file>.locktest.<rank>" into a 256-byte buffer in MPI_File_open and aborts the
 * process on longer names (open-mpi/ompi#13565), so the temporary's path must stay below this. */
#define OMPI_PATH_MAX (256 - (int)sizeof(".locktest.") - 10)

/* Strings rank 0 decides and broadcasts, so every rank writes identical metadata. */
enum { S_PATH, S_TMP, S_CREATED, S_VERSION, S_JOB, S_INPUTS, S_COUNT };

/* Room kept for HDF5's final metadata flush (see ts_tmpfile.h: the ballast, and the margin of every reservation). */
#define CLOSE_RESERVE ((int64_t)2 << 20)

struct ts_h5_file {
    ts_ctx ctx;     /* private duplicate of the caller's communicator */
    hid_t fid;      /* open temporary file, -1 once closed */
    hid_t dxpl;     /* collective transfer */
    char *blob;     /* the S_COUNT strings, NUL-separated */
    const char *s[S_COUNT];
    int overwrite;
    ts_tmpfile tf;  /* rank 0: the temporary's owner file and space reservations */
};

/* ---- errors ---------------------------------------------------------------------------------------- */

#define H5_FAIL(...) ts_h5_fail(__FILE__, __LINE__, __func__, __VA_ARGS__)

/* Collective: the local result of every rank becomes the same result on all ranks. */
static ts_err agree(ts_h5_file *f, ts_err local)
{
    TS_TRY(ts_ctx_check(&f->ctx, local));
    return TS_OK;
}

/* Collective, before a collective HDF5 call that may write up to `need` bytes: rank 0 reserves them past HDF5's end
 * of allocation (plus the close reserve) in the temporary, and every rank learns whether that worked. HDF5 1.10's
 * parallel calls are not safe against a write failing on one rank only (H5Dcreate of a chunked, filtered dataset
 * writes the fill chunks from rank 0 alone, then meets the others at an MPI_Barrier that a failed rank 0 never
 * reaches: a full disk hung every rank), so running out of space must be found before such a call, never in it. */
static ts_err reserve(ts_h5_file *f, int64_t need, const char *what)
{
    ts_err err = TS_OK;
    if (f->ctx.rank == 0) {
        haddr_t eoa = 0;
        if (H5Fget_eoa(f->fid, &eoa) < 0) {
            hsize_t size = 0;
            eoa = H5Fget_filesize(f->fid, &size) < 0 ? 0 : (haddr_t)size;
        }
        err = ts_tmpfile_reserve(&f->tf, (int64_t)eoa + need + CLOSE_RESERVE, what);
    }
    return agree(f, err);
}

/* An upper bound of the bytes one dataset adds to the file: its data deflated at worst (HDF5's deflate filter fails
 * rather than grow a chunk past 1.001 x + 12 bytes), the compressed fill chunks H5Dcreate writes first, the chunk
 * index and the object header. */
static int64_t dataset_bound(hsize_t n, size_t elem)
{
    const int64_t raw = (int64_t)n * (int64_t)elem, chunk_elems = (int64_t)(CHUNK_BYTES / (elem ? elem : 1));
    const int64_t nchunks = n ? ((int64_t)n + chunk_elems - 1) / chunk_elems : 1;
    return raw + raw / 512 + nchunks * (int64_t)(CHUNK_BYTES / 128 + 1024 + 256) + (64 << 10);
}

/* The output's directory ("." for a bare name) into buf. */
static const char *out_dir(const ts_h5_file *f, char *buf, size_t cap)
{
    const char *path = f->s[S_PATH], *slash = strrchr(path, '/');
    snprintf(buf, cap, "%.*s", slash ? (int)(slash - path) + (slash == path) : 1, slash ? path : ".");
    return buf;
}

/* MPI-IO reports a full file system as a generic write failure ("Write failed" deep in HDF5's stack), and errno
 * is gone by then. When the output's file system has (almost) nothing left, say so: that is the likely cause
 * and the one the user can fix. Returns err. */
static ts_err disk_full_hint(const ts_h5_file *f, ts_err err)
{
    char dir[PATH_MAX];
    struct statvfs sv;
    if (statvfs(out_dir(f, dir, sizeof dir), &sv) != 0)
        return err;
    const unsigned long long avail = (unsigned long long)sv.f_bavail * sv.f_frsize;
    if (avail >= 2 * CHUNK_BYTES && sv.f_favail != 0)
        return err;
    char hint[1200], msg[8192];
    snprintf(hint, sizeof hint, ": %s (%llu bytes free on the file system of %.1024s)", strerror(ENOSPC), avail,
             dir);
    const char *m = ts_error_message(), *nl = strchr(m, '\n'); /* the hint goes before the traceback */
    const int head = (int)(nl ? nl - m : (ptrdiff_t)strlen(m));
    snprintf(msg, sizeof msg, "%.*s%s%s", head, m, hint, nl ? nl : "");
    ts_error_set_message(msg);
    return err;
}

/* ---- attributes (collective metadata: every rank passes the same values) ------------------------- */

static hid_t str_type(size_t width)
{
    const hid_t t = H5Tcopy(H5T_C_S1);
    if (t >= 0 && (H5Tset_size(t, width) < 0 || H5Tset_strpad(t, H5T_STR_NULLPAD) < 0 ||
                   H5Tset_cset(t, H5T_CSET_ASCII) < 0)) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

static herr_t put_attr(hid_t loc, const char *name, hid_t type, hid_t space, const void *buf)
{
    const hid_t a = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0)
        return -1;
    const herr_t rc = H5Awrite(a, type, buf);
    return H5Aclose(a) < 0 ? -1 : rc;
}

static herr_t put_scalar(hid_t loc, const char *name, hid_t type, const void *value)
{
    const hid_t sp = H5Screate(H5S_SCALAR);
    const herr_t rc = sp < 0 ? -1 : put_attr(loc, name, type, sp, value);
    if (sp >= 0)
        H5Sclose(sp);
    return rc;
}

/* A scalar fixed-length string of exactly strlen(v) bytes (1 for ""). */
static herr_t put_string(hid_t loc, const char *name, const char *v)
{
    const size_t len = strlen(v);
    const hid_t t = str_type(len ? len : 1);
    const herr_t rc = t < 0 ? -1 : put_scalar(loc, name, t, v);
    if (t >= 0)
        H5Tclose(t);
    return rc;
}

/* A 1-D array of n fixed-length strings (shorter than TS_NAME_MAX) as wide as the longest; n == 0 gives an empty
 * dataspace of size 0, which h5py reads as an empty array. Any n: the file format (HDF5 1.8) keeps attributes
 * past 64 KiB (600 columns of long names) in dense storage. */
static herr_t put_strings(hid_t loc, const char *name, const char *const *v, int n)
{
    size_t width = 1;
    for (int i = 0; i < n; i++)
        width = strlen(v[i]) > width ? strlen(v[i]) : width;
    if (width >= TS_NAME_MAX)
        return -1;
    char *buf = calloc((size_t)(n > 0 ? n : 1), width);
    if (!buf)
        return -1;
    for (int i = 0; i < n; i++)
        memcpy(buf + (size_t)i * width, v[i], strlen(v[i]));
    const hsize_t dim = (hsize_t)n;
    const hid_t t = str_type(width), sp = H5Screate_simple(1, &dim, NULL);
    const herr_t rc = t < 0 || sp < 0 ? -1 : put_attr(loc, name, t, sp, buf);
    if (t >= 0)
        H5Tclose(t);
    if (sp >= 0)
        H5Sclose(sp);
    free(buf);
    return rc;
}

/* tessera_version, job, created (and inputs for tables). */
static herr_t put_provenance(const ts_h5_file *f, hid_t loc, int with_inputs)
{
    if (put_string(loc, "tessera_version", f->s[S_VERSION]) < 0 || put_string(loc, "job", f->s[S_JOB]) < 0)
        return -1;
    if (with_inputs && put_string(loc, "inputs", f->s[S_INPUTS]) < 0)
        return -1;
    return put_string(loc, "created", f->s[S_CREATED]);
}

/* ---- datasets -------------------------------------------------------------------------------------- */

/* One 1-D dataset: global length n, this rank's count elements at off. */
typedef struct h5_dset {
    const char *name;
    hid_t type; /* memory type == file type */
    hsize_t n, off, count;
    const void *buf;
    const char *units; /* optional CF units attribute */
    const int *scale;  /* optional decimal scale attribute */
} h5_dset;

static hid_t make_dcpl(size_t elem, hsize_t n)
{
    hsize_t chunk = CHUNK_BYTES / (elem ? elem : 1);
    if (n && chunk > n)
        chunk = n;
    if (chunk < 1)
        chunk = 1;
    const hid_t p = H5Pcreate(H5P_DATASET_CREATE);
    /* No fill: every element is written, and filling chunks first would double the I/O. */
    if (p >= 0 && (H5Pset_chunk(p, 1, &chunk) < 0 || H5Pset_shuffle(p) < 0 ||
                   H5Pset_deflate(p, DEFLATE_LEVEL) < 0 || H5Pset_fill_time(p, H5D_FILL_TIME_NEVER) < 0)) {
        H5Pclose(p);
        return -1;
    }
    return p;
}

/* A zero-row rank still joins the collective write, selecting nothing on both sides. */
static herr_t select_slab(hid_t fspace, hid_t mspace, const h5_dset *d)
{
    if (d->count == 0)
        return H5Sselect_none(fspace) < 0 || H5Sselect_none(mspace) < 0 ? -1 : 0;
    return H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &d->off, NULL, &d->count, NULL);
}

static herr_t put_dset_attrs(hid_t dset, const h5_dset *d)
{
    if (d->units && put_string(dset, "units", d->units) < 0)
        return -1;
    if (d->scale && put_scalar(dset, "scale", H5T_STD_I32LE, d->scale) < 0)
        return -1;
    return 0;
}

/* Collective create + write + close. The result is local (see agree). The message is taken at the first failing
 * call: every later HDF5 call (the cleanup's H5Dclose included) starts by clearing HDF5's error stack. */
static ts_err write_dataset(ts_h5_file *f, hid_t loc, const char *where, const h5_dset *d)
{
    static const char none = 0; /* a buffer for ranks that write nothing */
    char what[600];
    snprintf(what, sizeof what, "%s/%s", where, d->name);
    TS_TRY(reserve(f, dataset_bound(d->n, H5Tget_size(d->type)), what));
    /* A zero-length dataset needs an extensible dimension: a fixed one must be >= the chunk (>= 1). */
    const hsize_t maxdim = d->n ? d->n : H5S_UNLIMITED, mdim = d->count ? d->count : 1;
    const hid_t fspace = H5Screate_simple(1, &d->n, &maxdim), mspace = H5Screate_simple(1, &mdim, NULL);
    const hid_t dcpl = make_dcpl(H5Tget_size(d->type), d->n);
    hid_t dset = -1;
    herr_t rc = fspace < 0 || mspace < 0 || dcpl < 0 ? -1 : 0;
    if (rc >= 0) {
        dset = H5Dcreate2(loc, d->name, d->type, fspace, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        rc = dset < 0 ? -1 : 0;
    }
    if (rc >= 0)
        rc = select_slab(fspace, mspace, d);
    if (rc >= 0)
        rc = H5Dwrite(dset, d->type, mspace, fspace, f->dxpl, d->buf && d->count ? d->buf : &none);
    if (rc >= 0)
        rc = put_dset_attrs(dset, d);
    if (rc >= 0 && dset >= 0) {
        rc = H5Dclose(dset); /* flushes the last chunks: a full disk often shows here */
        dset = -1;
    }
    ts_err err = TS_OK;
    if (rc < 0)
        err = disk_full_hint(f, H5_FAIL("cannot write %s/%s in %s", where, d->name, f->s[S_PATH]));
    if (dset >= 0)
        H5Dclose(dset);
    if (fspace >= 0)
        H5Sclose(fspace);
    if (mspace >= 0)
        H5Sclose(mspace);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    return err;
}

/* ---- columns --------------------------------------------------------------------------------------- */

/* What the columns of one table share. */
typedef struct h5_table {
    ts_h5_file *f;
    hid_t g;
    const char *where; /* group path, for messages */
    int64_t n, off, count; /* global rows, this rank's first row, this rank's rows */
} h5_table;

static h5_dset slab(const h5_table *t, const char *name, hid_t type, const void *buf)
{
    return (h5_dset){.name = name, .type = type, .n = (hsize_t)t->n, .off = (hsize_t)t->off,
                     .count = (hsize_t)t->count, .buf = buf};
}

static hid_t fixed_type(ts_type t)
{
    switch (t) {
    case TS_T_BOOL: return H5T_STD_U8LE;
    case TS_T_INT32:
    case TS_T_DATE: return H5T_STD_I32LE;
    case TS_T_FLOAT64: return H5T_IEEE_F64LE;
    default: return H5T_STD_I64LE; /* INT64, DECIMAL */
    }
}

/* A copy of c's values with null slots zeroed, so the file never holds whatever memory was under a null. */
static ts_err zero_nulls(const ts_column *c, void **out)
{
    const size_t w = ts_type_width(c->type);
    TS_TRY(ts_alloc((size_t)c->len * w, out));
    if (c->len)
        memcpy(*out, c->data, (size_t)c->len * w);
    for (int64_t i = 0; i < c->len; i++)
        if (!ts_column_is_valid(c, i))
            memset((char *)*out + (size_t)i * w, 0, w);
    return TS_OK;
}

static ts_err write_fixed(const h5_table *t, const ts_column *c)
{
    void *copy = NULL;
    TS_TRY(agree(t->f, c->valid ? zero_nulls(c, &copy) : TS_OK));
    h5_dset d = slab(t, c->name, fixed_type(c->type), copy ? copy : c->data);
    d.units = c->type == TS_T_DATE ? DATE_UNITS : c->type == TS_T_TIMESTAMP ? TIMESTAMP_UNITS : NULL;
    d.scale = c->type == TS_T_DECIMAL ? &c->scale : NULL;
    const ts_err err = agree(t->f, write_dataset(t->f, t->g, t->where, &d));
    ts_free(copy);
    TS_TRY(err);
    return TS_OK;
}

/* Row i of a STRING or DICT column; nulls read as "". */
static const char *string_at(const ts_column *c, int64_t i, int64_t *len)
{
    if (!ts_column_is_valid(c, i)) {
        *len = 0;
        return "";
    }
    if (c->type == TS_T_DICT)
        return ts_dict_value(c->dict, TS_COL(c, int32_t)[i], len);
    const int64_t *o = TS_COL(c, int64_t);
    *len = o[i + 1] - o[i];
    return *len ? c->bytes + o[i] : ""; /* bytes may be NULL when every value is empty */
}

/* Longest local value; fails on a DICT code outside the dictionary. */
static ts_err local_width(const h5_table *t, const ts_column *c, int64_t *width)
{
    *width = 0;
    for (int64_t i = 0; i < c->len; i++) {
        if (c->type == TS_T_DICT && ts_column_is_valid(c, i)) {
            const int32_t code = TS_COL(c, int32_t)[i];
            if (code < 0 || code >= c->dict->n)
                TS_FAIL(TS_ERR_DATA, "table %s in %s: column '%s', row %lld: code %d is outside its "
                        "dictionary of %d values", t->where, t->f->s[S_PATH], c->name, (long long)(t->off + i),
                        code, c->dict->n);
        }
        int64_t len;
        string_at(c, i, &len);
        *width = len > *width ? len : *width;
    }
    return TS_OK;
}

/* The NUL-padded rows of c, each `width` bytes, in one buffer. */
static ts_err pad_strings(const ts_column *c, int64_t width, char **out)
{
    size_t n;
    if (__builtin_mul_overflow((size_t)c->len, (size_t)width, &n))
        n = SIZE_MAX;
    void *buf;
    if (ts_alloc(n, &buf) != TS_OK)
        TS_FAIL(TS_ERR_NOMEM, "column '%s': %lld rows of %lld-byte strings do not fit in memory "
                "(store long text as bytes+offsets)", c->name, (long long)c->len, (long long)width);
    if (n)
        memset(buf, 0, n);
    for (int64_t i = 0; i < c->len; i++) {
        int64_t len;
        const char *s = string_at(c, i, &len);
        if (len)
            memcpy((char *)buf + (size_t)i * (size_t)width, s, (size_t)len);
    }
    *out = buf;
    return TS_OK;
}

static ts_err write_fixed_strings(const h5_table *t, const ts_column *c)
{
    int64_t width;
    ts_err err = local_width(t, c, &width);
    /* every rank joins the reduction even after a local failure, then all agree */
    TS_MPI(MPI_Allreduce(MPI_IN_PLACE, &width, 1, MPI_INT64_T, MPI_MAX, t->f->ctx.comm));
    width = width < 1 ? 1 : width;
    char *buf = NULL;
    if (!err)
        err = pad_strings(c, width, &buf);
    const hid_t type = err ? -1 : str_type((size_t)width);
    if (!err && type < 0)
        err = H5_FAIL("cannot make a %lld-byte string type for %s/%s", (long long)width, t->where, c->name);
    err = agree(t->f, err);
    if (!err) {
        const h5_dset d = slab(t, c->name, type, buf);
        err = agree(t->f, write_dataset(t->f, t->g, t->where, &d));
    }
    if (type >= 0)
        H5Tclose(type);
    ts_free(buf);
    TS_TRY(err);
    return TS_OK;
}

/* This rank's row start offsets moved to the global byte position (plus the final total on the last rank). */
static ts_err global_offsets(const ts_column *c, int64_t base, int last, int64_t **out)
{
    const int64_t *o = TS_COL(c, int64_t), n = c->len + (last ? 1 : 0);
    void *p;
    TS_TRY(ts_alloc((size_t)n * sizeof(int64_t), &p));
    int64_t *g = p;
    for (int64_t i = 0; i < n; i++)
        g[i] = o[i] - o[0] + base;
    *out = g;
    return TS_OK;
}

/* A sub-group with `offsets` (int64, nrows + 1) and `bytes` (uint8): exact bytes, NULs included. */
static ts_err write_bytes_offsets(const h5_table *t, const ts_column *c)
{
    ts_h5_file *f = t->f;
    const int64_t *o = TS_COL(c, int64_t), nb = o[c->len] - o[0];
    int64_t base = 0, total = 0;
    TS_MPI(MPI_Exscan(&nb, &base, 1, MPI_INT64_T, MPI_SUM, f->ctx.comm));
    TS_MPI(MPI_Allreduce(&nb, &total, 1, MPI_INT64_T, MPI_SUM, f->ctx.comm));
    base = f->ctx.rank == 0 ? 0 : base; /* MPI_Exscan leaves rank 0's result undefined */
    const int last = f->ctx.rank == f->ctx.size - 1;
    int64_t *offs = NULL;
    ts_err err = agree(f, global_offsets(c, base, last, &offs));

    char where[4 * TS_NAME_MAX]; /* a group path (a table name of up to 2 * TS_NAME_MAX) and a column name */
    snprintf(where, sizeof where, "%s/%s", t->where, c->name);
    hid_t sub = -1;
    if (!err) {
        sub = H5Gcreate2(t->g, c->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        err = agree(f, sub < 0 ? H5_FAIL("cannot create group %s in %s", where, f->s[S_PATH]) : TS_OK);
    }
    if (!err) {
        h5_dset d = slab(t, "offsets", H5T_STD_I64LE, offs);
        d.n += 1, d.count += (hsize_t)last;
        err = agree(f, write_dataset(f, sub, where, &d));
    }
    if (!err) {
        const h5_dset d = {.name = "bytes", .type = H5T_STD_U8LE, .n = (hsize_t)total, .off = (hsize_t)base,
                           .count = (hsize_t)nb, .buf = nb ? c->bytes + o[0] : NULL};
        err = agree(f, write_dataset(f, sub, where, &d));
    }
    if (!err) {
        const herr_t rc = put_string(sub, "encoding", "bytes+offsets");
        err = agree(f, rc < 0 ? H5_FAIL("cannot write attribute encoding of %s in %s", where, f->s[S_PATH]) : TS_OK);
    }
    const herr_t rc = sub >= 0 ? H5Gclose(sub) : 0;
    if (!err)
        err = agree(f, rc < 0 ? H5_FAIL("cannot close group %s in %s", where, f->s[S_PATH]) : TS_OK);
    ts_free(offs);
    TS_TRY(err);
    return TS_OK;
}

/* "<name>.valid" (uint8, 1 = valid) when any rank has a null in c. */
static ts_err write_validity(const h5_table *t, const ts_column *c)
{
    int any = c->valid != NULL;
    TS_MPI(MPI_Allreduce(MPI_IN_PLACE, &any, 1, MPI_INT, MPI_MAX, t->f->ctx.comm));
    if (!any)
        return TS_OK;
    void *v = NULL;
    ts_err err = ts_alloc((size_t)c->len, &v);
    for (int64_t i = 0; !err && i < c->len; i++)
        ((uint8_t *)v)[i] = (uint8_t)ts_column_is_valid(c, i);
    err = agree(t->f, err);
    if (!err) {
        char name[TS_NAME_MAX + 8];
        snprintf(name, sizeof name, "%s.valid", c->name);
        const h5_dset d = slab(t, name, H5T_STD_U8LE, v);
        err = agree(t->f, write_dataset(t->f, t->g, t->where, &d));
    }
    ts_free(v);
    TS_TRY(err);
    return TS_OK;
}

static ts_err write_column(const h5_table *t, const ts_column *c, int as_bytes)
{
    if (as_bytes)
        TS_TRY(write_bytes_offsets(t, c));
    else if (c->type == TS_T_STRING || c->type == TS_T_DICT)
        TS_TRY(write_fixed_strings(t, c));
    else
        TS_TRY(write_fixed(t, c));
    TS_TRY(write_validity(t, c));
    return TS_OK;
}

/* ---- tables ---------------------------------------------------------------------------------------- */

static int listed(const ts_h5_table_opts *opts, const char *name)
{
    for (int i = 0; opts && i < opts->nbytes_columns; i++)
        if (strcmp(opts->bytes_columns[i], name) == 0)
            return 1;
    return 0;
}

/* Local checks of the arguments; as_bytes[i] tells whether column i is stored as bytes+offsets. */
static ts_err check_table(const ts_h5_file *f, const char *gpath, const ts_table *t, const ts_h5_table_opts *opts,
                          int *as_bytes)
{
    if (!gpath || !*gpath || strcmp(gpath, "/") == 0)
        TS_FAIL(TS_ERR_USAGE, "a table in %s needs a group path such as /analytics/name", f->s[S_PATH]);
    if (!t)
        TS_FAIL(TS_ERR_USAGE, "no table given for %s in %s", gpath, f->s[S_PATH]);
    for (int i = 0; opts && i < opts->nbytes_columns; i++) {
        const ts_column *c = ts_table_col(t, opts->bytes_columns[i]);
        if (!c || c->type != TS_T_STRING)
            TS_FAIL(TS_ERR_USAGE, "table %s: bytes column '%s' is not a string column of the table", gpath,
                    opts->bytes_columns[i]);
    }
    for (int i = 0; i < t->ncols; i++) {
        const ts_column *c = t->cols[i];
        if (!c->name[0] || strchr(c->name, '/') || strcmp(c->name, ".") == 0)
            TS_FAIL(TS_ERR_USAGE, "table %s: column name '%s' cannot be an HDF5 dataset name", gpath, c->name);
        if (c->len != ts_table_rows(t))
            TS_FAIL(TS_ERR_INTERNAL, "table %s: column '%s' has %lld rows, the table %lld", gpath, c->name,
                    (long long)c->len, (long long)ts_table_rows(t));
        as_bytes[i] = listed(opts, c->name);
    }
    return TS_OK;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ ((const unsigned char *)p)[i]) * 1099511628211u;
    return h;
}

/* Collective: fails on every rank when the ranks passed different schemas (a hang or a garbled file
 * otherwise, since every rank must create the same datasets). */
static ts_err same_schema(ts_h5_file *f, const char *gpath, const ts_table *t, const int *as_bytes)
{
    uint64_t h = fnv(14695981039346656037u, gpath, strlen(gpath) + 1);
    for (int i = 0; i < t->ncols; i++) {
        const int sig[3] = {(int)t->cols[i]->type, t->cols[i]->scale, as_bytes[i]};
        h = fnv(fnv(h, t->cols[i]->name, strlen(t->cols[i]->name) + 1), sig, sizeof sig);
    }
    for (int i = 0; i < t->nsort; i++)
        h = fnv(h, t->sort_keys[i], strlen(t->sort_keys[i]) + 1);
    uint64_t hi[2] = {h, ~h}; /* max of h and of ~h: both equal h everywhere only if all ranks agree */
    TS_MPI(MPI_Allreduce(MPI_IN_PLACE, hi, 2, MPI_UINT64_T, MPI_MAX, f->ctx.comm));
    if (hi[0] != h || ~hi[1] != h)
        TS_FAIL(TS_ERR_USAGE, "table %s in %s: the ranks passed different schemas (column names, types, "
                "sort keys or bytes columns differ)", gpath, f->s[S_PATH]);
    return TS_OK;
}

static herr_t put_table_attrs(const ts_h5_file *f, hid_t g, const ts_table *t, int64_t nrows)
{
    const size_t n = (size_t)t->ncols + 1;
    const char **names = malloc(sizeof *names * n), **types = malloc(sizeof *types * n), *keys[8];
    char (*tbuf)[32] = malloc(sizeof *tbuf * n); /* "DECIMAL(18,2)" */
    herr_t rc = names && types && tbuf ? 0 : -1;
    for (int i = 0; !rc && i < t->ncols; i++) {
        names[i] = t->cols[i]->name;
        types[i] = ts_type_name(t->cols[i]->type, t->cols[i]->scale, tbuf[i], sizeof tbuf[i]);
    }
    for (int i = 0; i < t->nsort; i++)
        keys[i] = t->sort_keys[i];
    if (!rc && (put_strings(g, "columns", names, t->ncols) < 0 || put_strings(g, "types", types, t->ncols) < 0 ||
                put_scalar(g, "nrows", H5T_STD_I64LE, &nrows) < 0 || put_strings(g, "sort_keys", keys, t->nsort) < 0))
        rc = -1;
    free(names), free(types), free(tbuf);
    return rc < 0 ? -1 : put_provenance(f, g, 1);
}

/* Creates the table's group (and missing parents) collectively. */
static ts_err create_group(ts_h5_file *f, const char *gpath, hid_t *g)
{
    const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    *g = -1;
    if (lcpl >= 0 && H5Pset_create_intermediate_group(lcpl, 1) >= 0)
        *g = H5Gcreate2(f->fid, gpath, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    const ts_err err = *g < 0 ? H5_FAIL("cannot create group %s in %s", gpath, f->s[S_PATH]) : TS_OK;
    if (lcpl >= 0)
        H5Pclose(lcpl);
    return err;
}

ts_err ts_h5_write_table(ts_h5_file *f, const char *group_path, const ts_table *local, const ts_h5_table_opts *opts)
{
    if (!f || f->fid < 0)
        TS_FAIL(TS_ERR_USAGE, "ts_h5_write_table(%s): the file is not open", group_path ? group_path : "?");
    if (ts_fault_armed()) /* TESSERA_FAULT's "h5-write" point: a failure with a partial file on disk */
        TS_TRY(agree(f, ts_fault_point("h5-write")));
    int *as_bytes = local ? malloc(sizeof *as_bytes * (size_t)(local->ncols + 1)) : NULL;
    ts_err err = agree(f, local && !as_bytes ? ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__,
                                                              "out of memory") : TS_OK);
    if (!err)
        err = agree(f, check_table(f, group_path, local, opts, as_bytes));
    if (!err)
        err = same_schema(f, group_path, local, as_bytes);
    if (err) {
        free(as_bytes);
        TS_TRY(err);
    }

    h5_table t = {.f = f, .where = group_path, .count = ts_table_rows(local), .g = -1};
    if (!err)
        err = ts_mpi_status(MPI_Exscan(&t.count, &t.off, 1, MPI_INT64_T, MPI_SUM, f->ctx.comm), "MPI_Exscan",
                            __FILE__, __LINE__, __func__);
    if (!err)
        err = ts_mpi_status(MPI_Allreduce(&t.count, &t.n, 1, MPI_INT64_T, MPI_SUM, f->ctx.comm), "MPI_Allreduce",
                            __FILE__, __LINE__, __func__);
    t.off = f->ctx.rank == 0 ? 0 : t.off;

    if (!err)
        err = reserve(f, 64 << 10, group_path); /* the group and its attributes */
    if (!err)
        err = agree(f, create_group(f, group_path, &t.g));
    for (int i = 0; !err && i < local->ncols; i++)
        err = write_column(&t, local->cols[i], as_bytes[i]);
    if (!err) {
        const herr_t rc = put_table_attrs(f, t.g, local, t.n);
        err = agree(f, rc < 0 ? H5_FAIL("cannot write the attributes of %s in %s", group_path, f->s[S_PATH])
                              : TS_OK);
    }
    const herr_t rc = t.g >= 0 ? H5Gclose(t.g) : 0;
    if (!err)
        err = agree(f, rc < 0 ? H5_FAIL("cannot close group %s in %s", group_path, f->s[S_PATH]) : TS_OK);
    free(as_bytes);
    TS_TRY(err);
    return TS_OK;
}

/* ---- file lifecycle -------------------------------------------------------------------------------- */

/* Splits path into its directory ("." when none) and base name. */
static ts_err split_path(const char *path, char *dir, size_t cap, const char **base)
{
    const char *slash = strrchr(path, '/');
    *base = slash ? slash + 1 : path;
    if (!**base)
        TS_FAIL(TS_ERR_USAGE, "cannot create %s: the path names a directory, not a file", path);
    const size_t n = !slash ? 0 : slash == path ? 1 : (size_t)(slash - path);
    if (n + 1 > cap || strlen(path) + 32 > PATH_MAX)
        TS_FAIL(TS_ERR_USAGE, "cannot create %s: the path is too long", path);
    if (n)
        memcpy(dir, path, n), dir[n] = '\0';
    else
        snprintf(dir, cap, ".");
    return TS_OK;
}

static ts_err check_target(const char *path, const char *dir, int overwrite)
{
    struct stat st;
    if (stat(path, &st) == 0) {
        if (!S_ISREG(st.st_mode))
            TS_FAIL(TS_ERR_IO, "cannot create %s: it exists and is not a regular file", path);
        if (!overwrite)
            TS_FAIL(TS_ERR_IO, "cannot create %s: the file exists (pass --overwrite to replace it)", path);
    } else if (errno != ENOENT) {
        TS_FAIL(TS_ERR_IO, "cannot create %s: %s", path, strerror(errno));
    }
    if (access(dir, W_OK | X_OK) != 0) {
        const int e = errno;
        if (e == ENOENT || e == ENOTDIR)
            TS_FAIL(TS_ERR_IO, "cannot create %s: directory %s: %s", path, dir, strerror(e));
        TS_FAIL(TS_ERR_IO, "cannot create %s: directory %s is not writable: %s", path, dir, strerror(e));
    }
    return TS_OK;
}

ts_err ts_h5_check_output(const char *path, int overwrite)
{
    char dir[PATH_MAX];
    const char *base;
    if (!path || !*path)
        TS_FAIL(TS_ERR_USAGE, "no output path given");
    TS_TRY(split_path(path, dir, sizeof dir, &base));
    TS_TRY(check_target(path, dir, overwrite));
    TS_TRY(ts_tmpfile_check_live(path));
    return TS_OK;
}

/* Rank 0: checks the target, clears stale temporaries, creates the new one's owner file (with room for the close
 * and the file's creation) and packs the strings every rank will use. */
static ts_err root_prepare(ts_h5_file *f, const char *path, int overwrite, const ts_h5_meta *meta, char **blob,
                           int64_t *len)
{
    char dir[PATH_MAX], tmp[PATH_MAX + 64], created[32];
    const char *base;
    if (!path || !*path)
        TS_FAIL(TS_ERR_USAGE, "no output path given");
    TS_TRY(split_path(path, dir, sizeof dir, &base));
    TS_TRY(check_target(path, dir, overwrite));
    ts_tmpfile_remove_stale(path);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp-%ld", dir, base, (long)getpid());
#ifdef OPEN_MPI
    if (strlen(tmp) > OMPI_PATH_MAX)
        TS_FAIL(TS_ERR_USAGE, "cannot create %s: Open MPI's MPI-IO crashes on paths longer than about %zu bytes "
                "(open-mpi/ompi#13565); use a shorter or relative path", path,
                OMPI_PATH_MAX - (strlen(tmp) - strlen(path)));
#endif
    TS_TRY(ts_tmpfile_begin(path, 2 * CLOSE_RESERVE, &f->tf));
    snprintf(tmp, sizeof tmp, "%s", f->tf.tmp);

    const time_t now = time(NULL);
    struct tm tm;
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));

    const char *s[S_COUNT] = {[S_PATH] = path, [S_TMP] = tmp, [S_CREATED] = created,
                              [S_VERSION] = meta && meta->version ? meta->version : TS_VERSION,
                              [S_JOB] = meta && meta->job ? meta->job : "",
                              [S_INPUTS] = meta && meta->inputs ? meta->inputs : ""};
    size_t n = 0;
    for (int i = 0; i < S_COUNT; i++)
        n += strlen(s[i]) + 1;
    if (n > META_MAX)
        TS_FAIL(TS_ERR_USAGE, "cannot create %s: job, inputs and version exceed %d bytes", path, META_MAX);
    char *b = malloc(n);
    if (!b)
        TS_FAIL(TS_ERR_NOMEM, "cannot create %s: out of memory", path);
    for (int i = 0, at = 0; i < S_COUNT; i++) {
        memcpy(b + at, s[i], strlen(s[i]) + 1);
        at += (int)strlen(s[i]) + 1;
    }
    *blob = b, *len = (int64_t)n;
    return TS_OK;
}

/* Collective: rank 0 prepares, everyone receives its strings (or its error). */
static ts_err share_blob(ts_h5_file *f, const char *path, int overwrite, const ts_h5_meta *meta)
{
    int64_t len = 0;
    TS_TRY(agree(f, f->ctx.rank == 0 ? root_prepare(f, path, overwrite, meta, &f->blob, &len) : TS_OK));
    TS_MPI(MPI_Bcast(&len, 1, MPI_INT64_T, 0, f->ctx.comm));
    ts_err err = TS_OK;
    if (f->ctx.rank != 0 && !(f->blob = malloc((size_t)len)))
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory for %lld bytes",
                             (long long)len);
    TS_TRY(agree(f, err));
    TS_MPI(MPI_Bcast(f->blob, (int)len, MPI_CHAR, 0, f->ctx.comm));
    for (int i = 0, at = 0; i < S_COUNT; i++) {
        f->s[i] = f->blob + at;
        at += (int)strlen(f->s[i]) + 1;
    }
    return TS_OK;
}

static hid_t make_fapl(MPI_Comm comm)
{
    const hid_t p = H5Pcreate(H5P_FILE_ACCESS);
    /* V18 bounds: readable by HDF5 1.8+ (old netCDF, MATLAB) as well as h5py. */
    if (p >= 0 && (H5Pset_fapl_mpio(p, comm, MPI_INFO_NULL) < 0 || H5Pset_all_coll_metadata_ops(p, 1) < 0 ||
                   H5Pset_coll_metadata_write(p, 1) < 0 ||
                   H5Pset_libver_bounds(p, H5F_LIBVER_V18, H5F_LIBVER_V18) < 0)) {
        H5Pclose(p);
        return -1;
    }
    return p;
}

/* Collective: creates the temporary file and the collective transfer list. Result is local. */
static ts_err open_tmp(ts_h5_file *f)
{
    if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) <= 0 || H5Zfilter_avail(H5Z_FILTER_SHUFFLE) <= 0)
        TS_FAIL(TS_ERR_IO, "cannot create %s: this HDF5 library lacks the deflate or shuffle filter",
                f->s[S_PATH]);
    const hid_t fapl = make_fapl(f->ctx.comm);
    if (fapl >= 0)
        f->fid = H5Fcreate(f->s[S_TMP], H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (f->fid >= 0 && (f->dxpl = H5Pcreate(H5P_DATASET_XFER)) >= 0 &&
        H5Pset_dxpl_mpio(f->dxpl, H5FD_MPIO_COLLECTIVE) < 0) {
        H5Pclose(f->dxpl);
        f->dxpl = -1;
    }
    const ts_err err = f->fid < 0 || f->dxpl < 0 ? H5_FAIL("cannot create %s", f->s[S_PATH]) : TS_OK;
    if (fapl >= 0)
        H5Pclose(fapl);
    return err;
}

static ts_err close_file(ts_h5_file *f)
{
    herr_t rc = 0;
    if (f->dxpl >= 0)
        H5Pclose(f->dxpl);
    if (f->fid >= 0)
        rc = H5Fclose(f->fid);
    f->dxpl = f->fid = -1;
    if (rc < 0)
        return disk_full_hint(f, H5_FAIL("cannot close %s", f->s[S_PATH]));
    return TS_OK;
}

static void free_file(ts_h5_file *f)
{
    ts_tmpfile_discard(&f->tf); /* no-op once published or discarded */
    ts_ctx_free(&f->ctx);
    free(f->blob);
    free(f);
}

ts_err ts_h5_create(MPI_Comm comm, const char *path, int overwrite, const ts_h5_meta *meta, ts_h5_file **out)
{
    *out = NULL;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* errors reach users through ts_err messages */
    ts_ctx ctx;
    TS_TRY(ts_ctx_init(comm, &ctx));
    ts_h5_file *f = calloc(1, sizeof *f);
    ts_err err = f ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    err = ts_ctx_check(&ctx, err);
    if (err) {
        free(f);
        ts_ctx_free(&ctx);
        TS_TRY(err);
    }
    f->ctx = ctx, f->fid = f->dxpl = -1, f->overwrite = overwrite;
    f->tf.owner_fd = f->tf.tmp_fd = -1;
    if ((err = share_blob(f, path, overwrite, meta))) {
        free_file(f);
        TS_TRY(err);
    }
    if (f->ctx.rank == 0) /* half of the owner file's ballast is room for the file's creation */
        ts_tmpfile_set_ballast(&f->tf, CLOSE_RESERVE);
    err = agree(f, open_tmp(f));
    if (!err)
        err = agree(f, f->ctx.rank == 0 ? ts_tmpfile_opened(&f->tf) : TS_OK);
    if (!err)
        err = reserve(f, 64 << 10, "the file's root"); /* the superblock and root attributes */
    if (!err) {
        const herr_t rc = put_provenance(f, f->fid, 0);
        err = agree(f, rc < 0 ? H5_FAIL("cannot write the root attributes of %s", f->s[S_PATH]) : TS_OK);
    }
    if (err) {
        ts_h5_abandon(f);
        TS_TRY(err);
    }
    *out = f;
    return TS_OK;
}

ts_err ts_h5_commit(ts_h5_file *f)
{
    if (!f)
        TS_FAIL(TS_ERR_USAGE, "ts_h5_commit: no file");
    /* H5Fclose flushes the metadata cache; the file's reservations already cover it, and the ballast given back
     * now covers it on file systems without fallocate */
    if (f->ctx.rank == 0)
        ts_tmpfile_set_ballast(&f->tf, 0);
    ts_err err = agree(f, close_file(f)); /* the reduction doubles as the barrier before the rename */
    if (!err)
        err = agree(f, f->ctx.rank == 0 ? ts_tmpfile_publish(&f->tf, f->overwrite) : TS_OK);
    free_file(f); /* after a failure: removes the temporary and its owner file */
    TS_TRY(err);
    return TS_OK;
}

void ts_h5_abandon(ts_h5_file *f)
{
    if (!f)
        return;
    if (f->fid >= 0) {
        /* keep the caller's error message: this is cleanup after it */
        if (f->dxpl >= 0)
            H5Pclose(f->dxpl);
        /* H5Fclose must not fail: a failed final flush leaves HDF5 a half-closed file that crashes it at
         * MPI_Finalize. The ballast given back and the emptied file (garbage anyway) leave it room to flush. */
        if (f->ctx.rank == 0)
            ts_tmpfile_set_ballast(&f->tf, 0);
        MPI_Barrier(f->ctx.comm);
        if (f->ctx.rank == 0 && truncate(f->s[S_TMP], 0) != 0) {
            /* nothing to free then: the close below tries its best */
        }
        MPI_Barrier(f->ctx.comm);
        H5Fclose(f->fid);
        H5Eclear2(H5E_DEFAULT);
        f->fid = f->dxpl = -1;
    }
    MPI_Barrier(f->ctx.comm);
    free_file(f); /* rank 0: the temporary, then its owner file */
}
