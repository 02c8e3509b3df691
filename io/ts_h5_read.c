/* Parallel HDF5 table reader (layout contract: docs/hdf5-layout.md).
 *
 * The file is opened with collective metadata reads (rank 0 reads, the others receive), so every rank must make
 * the same HDF5 calls in the same order. Schema discovery depends only on the file, so it is the same
 * everywhere; a rank-local step (allocation, value checks) may fail on some ranks only, so every such step is
 * followed by agree() (an MPI_Allreduce) before the next HDF5 call. A function that makes HDF5 calls returns an
 * error that is already identical on every rank.
 *
 * Data: one collective H5Dread per dataset, straight into the column arrays in the file's own (native) type,
 * which keeps the read collective (no datatype conversion inside HDF5); narrower types (int16, float32, ...)
 * are then widened in place. */
#include "ts_h5_read.h"
#include "ts_h5_error.h"

#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ts_ctx.h"
#include "ts_mem.h"

#define DATE_UNITS "days since 1970-01-01"
#define TIMESTAMP_UNITS "microseconds since 1970-01-01 00:00:00"
#define MAX_DEPTH 64 /* groups nested deeper are not searched for tables */
/* Open MPI <= 5.0.9 aborts the process in MPI_File_open on long names (open-mpi/ompi#13565; measured here:
 * read-only opens crash from about 245 bytes); same bound as the writer's. */
#define OMPI_PATH_MAX (256 - (int)sizeof(".locktest.") - 10)

/* ---- errors ---------------------------------------------------------------------------------------- */

#define H5_FAIL(...) ts_h5_fail(__FILE__, __LINE__, __func__, __VA_ARGS__)

/* ---- the open file --------------------------------------------------------------------------------- */

typedef struct rd {
    ts_ctx ctx; /* private duplicate of the caller's communicator */
    const char *path;
    hid_t fid, dxpl;
} rd;

/* Collective: the local result of every rank becomes the same result on all ranks. */
static ts_err agree(rd *r, ts_err local)
{
    TS_TRY(ts_ctx_check(&r->ctx, local));
    return TS_OK;
}

/* Rank 0 looks first: MPI-IO's message for a missing file does not say which file or why. */
static ts_err check_file(const char *path)
{
    struct stat st;
#ifdef OPEN_MPI
    if (strlen(path) > OMPI_PATH_MAX)
        TS_FAIL(TS_ERR_USAGE, "cannot open %s: Open MPI's MPI-IO crashes on paths longer than %d bytes "
                "(open-mpi/ompi#13565); use a shorter or relative path", path, OMPI_PATH_MAX);
#endif
    if (stat(path, &st) != 0)
        TS_FAIL(TS_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        TS_FAIL(TS_ERR_IO, "cannot open %s: not a regular file", path);
    return TS_OK;
}

static ts_err open_file(rd *r)
{
    const hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0 && H5Pset_fapl_mpio(fapl, r->ctx.comm, MPI_INFO_NULL) >= 0 &&
        H5Pset_all_coll_metadata_ops(fapl, 1) >= 0)
        r->fid = H5Fopen(r->path, H5F_ACC_RDONLY, fapl);
    if (r->fid >= 0 && (r->dxpl = H5Pcreate(H5P_DATASET_XFER)) >= 0 &&
        H5Pset_dxpl_mpio(r->dxpl, H5FD_MPIO_COLLECTIVE) < 0) {
        H5Pclose(r->dxpl);
        r->dxpl = -1;
    }
    const ts_err err = r->fid < 0 || r->dxpl < 0 ? H5_FAIL("cannot open %s as an HDF5 file", r->path) : TS_OK;
    if (fapl >= 0)
        H5Pclose(fapl);
    return err;
}

/* Collective. Closes whatever is open; read-only, so a failing close loses nothing. */
static void rd_close(rd *r)
{
    if (r->dxpl >= 0)
        H5Pclose(r->dxpl);
    if (r->fid >= 0)
        H5Fclose(r->fid);
    H5Eclear2(H5E_DEFAULT);
    r->fid = r->dxpl = -1;
    ts_ctx_free(&r->ctx);
}

/* Collective: `args` is the caller's local argument check, agreed before anything touches the file. */
static ts_err rd_open(MPI_Comm comm, const char *path, ts_err args, rd *r)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* errors reach users through ts_err messages */
    r->path = path, r->fid = r->dxpl = -1;
    TS_TRY(ts_ctx_init(comm, &r->ctx));
    ts_err err = agree(r, args != TS_OK ? args
                          : !path || !*path ? ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__,
                                                             "no HDF5 input file given")
                                            : TS_OK);
    if (!err)
        err = agree(r, r->ctx.rank == 0 ? check_file(path) : TS_OK);
    if (!err)
        err = agree(r, open_file(r));
    if (err) {
        rd_close(r);
        TS_TRY(err);
    }
    return TS_OK;
}

/* ---- string lists ------------------------------------------------------------------------------------ */

typedef struct strs {
    int n, cap, oom;
    char **v;
} strs;

static ts_err strs_add(strs *s, const char *p, size_t len)
{
    if (s->n == s->cap) {
        const int cap = s->cap ? 2 * s->cap : 16;
        char **v = realloc(s->v, (size_t)cap * sizeof *v);
        if (!v)
            TS_FAIL(TS_ERR_NOMEM, "out of memory for a list of %d names", cap);
        s->v = v, s->cap = cap;
    }
    if (!(s->v[s->n] = strndup(p, len)))
        TS_FAIL(TS_ERR_NOMEM, "out of memory for a name");
    s->n++;
    return TS_OK;
}

static void strs_free(strs *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    *s = (strs){0};
}

static int strs_find(const strs *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->v[i], name) == 0)
            return i;
    return -1;
}

/* Levenshtein distance of the first 127 bytes of a and b. */
static int distance(const char *a, const char *b)
{
    int row[128];
    const int na = (int)strnlen(a, 127), nb = (int)strnlen(b, 127);
    for (int j = 0; j <= nb; j++)
        row[j] = j;
    for (int i = 1; i <= na; i++) {
        int diag = row[0];
        row[0] = i;
        for (int j = 1; j <= nb; j++) {
            const int up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            row[j] = best < up + 1 ? best : up + 1;
            row[j] = row[j] < row[j - 1] + 1 ? row[j] : row[j - 1] + 1;
            diag = up;
        }
    }
    return row[nb];
}

/* The candidate nearest to `want` when it is near enough to be a likely typo, else NULL. */
static const char *closest(const char *want, const strs *cands)
{
    const char *best = NULL;
    int limit = (int)strlen(want) / 3;
    limit = limit < 2 ? 2 : limit;
    for (int i = 0; i < cands->n; i++) {
        const int d = distance(want, cands->v[i]);
        if (d <= limit)
            best = cands->v[i], limit = d - 1;
    }
    return best;
}

/* ---- attributes -------------------------------------------------------------------------------------- */

/* Value length of a fixed-length string of width w: without its padding. */
static size_t padded_len(const char *p, size_t w, H5T_str_t pad)
{
    if (pad == H5T_STR_NULLTERM)
        return strnlen(p, w);
    const char fill = pad == H5T_STR_SPACEPAD ? ' ' : '\0';
    while (w && p[w - 1] == fill)
        w--;
    return w;
}

static ts_err fixed_attr_strings(hid_t a, hid_t type, hssize_t n, const char *what, strs *out)
{
    const size_t w = H5Tget_size(type);
    char *buf = malloc((size_t)n * w + 1);
    if (!buf)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for %s", what);
    ts_err err = H5Aread(a, type, buf) < 0 ? H5_FAIL("cannot read %s", what) : TS_OK;
    const H5T_str_t pad = H5Tget_strpad(type);
    for (hssize_t i = 0; !err && i < n; i++) {
        const char *p = buf + (size_t)i * w;
        err = strs_add(out, p, padded_len(p, w, pad));
    }
    free(buf);
    return err;
}

static ts_err vlen_attr_strings(hid_t a, hid_t type, hid_t space, hssize_t n, const char *what, strs *out)
{
    char **buf = calloc((size_t)n + 1, sizeof *buf);
    const hid_t mem = H5Tcopy(H5T_C_S1);
    ts_err err = !buf ? ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory for %s", what)
                      : TS_OK;
    /* same character set as the file (h5py writes UTF-8): HDF5 has no ASCII <-> UTF-8 conversion */
    if (!err && (mem < 0 || H5Tset_size(mem, H5T_VARIABLE) < 0 || H5Tset_cset(mem, H5Tget_cset(type)) < 0 ||
                 H5Aread(a, mem, buf) < 0))
        err = H5_FAIL("cannot read %s", what);
    else if (!err) {
        for (hssize_t i = 0; !err && i < n; i++)
            err = strs_add(out, buf[i] ? buf[i] : "", buf[i] ? strlen(buf[i]) : 0);
        H5Dvlen_reclaim(mem, space, H5P_DEFAULT, buf);
    }
    if (mem >= 0)
        H5Tclose(mem);
    free(buf);
    return err;
}

/* Appends the strings of attribute `attr` of obj (scalar or 1-D; fixed or variable length) to out. Local result
 * (the caller agrees). */
static ts_err attr_strings(hid_t obj, const char *attr, const char *where, const char *path, strs *out)
{
    char what[1024];
    snprintf(what, sizeof what, "attribute '%s' of %s in %s", attr, where, path);
    const hid_t a = H5Aopen(obj, attr, H5P_DEFAULT);
    const hid_t type = a < 0 ? -1 : H5Aget_type(a), space = a < 0 ? -1 : H5Aget_space(a);
    const hssize_t n = space < 0 ? -1 : H5Sget_simple_extent_npoints(space);
    ts_err err = TS_OK;
    if (type < 0 || n < 0)
        err = H5_FAIL("cannot read %s", what);
    else if (H5Tget_class(type) != H5T_STRING)
        err = ts_error_raise(TS_ERR_DATA, __FILE__, __LINE__, __func__, "%s is not a string", what);
    else if (H5Tis_variable_str(type) > 0)
        err = vlen_attr_strings(a, type, space, n, what, out);
    else
        err = fixed_attr_strings(a, type, n, what, out);
    if (type >= 0)
        H5Tclose(type);
    if (space >= 0)
        H5Sclose(space);
    if (a >= 0)
        H5Aclose(a);
    return err;
}

/* 1 when obj has attribute name, 0 when not; fails on an HDF5 error. Local result. */
static ts_err has_attr(hid_t obj, const char *name, const char *where, const char *path, int *yes)
{
    const htri_t ex = H5Aexists(obj, name);
    if (ex < 0)
        return H5_FAIL("cannot look for attribute '%s' of %s in %s", name, where, path);
    *yes = ex > 0;
    return TS_OK;
}

/* CF units of a date dataset (the optional time of day is accepted when it is midnight): 1; of a timestamp
 * dataset (microseconds since the epoch): 2; else 0. */
static int is_day_units(const char *u)
{
    if (strcmp(u, DATE_UNITS) == 0 || strcmp(u, DATE_UNITS " 00:00:00") == 0)
        return 1;
    return strcmp(u, TIMESTAMP_UNITS) == 0 || strcmp(u, "microseconds since 1970-01-01") == 0 ? 2 : 0;
}

/* ---- groups and their members ------------------------------------------------------------------------ */

static herr_t collect_name(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    (void)g;
    strs *s = data;
    if (info->type == H5L_TYPE_EXTERNAL) /* another file: not part of this one's tables */
        return 0;
    /* keep iterating after a failure: stopping on one rank only would desynchronise the collective reads */
    if (!s->oom && strs_add(s, name, strlen(name)) != TS_OK)
        s->oom = 1;
    return 0;
}

/* Names of g's members, in name order. Local result. */
static ts_err list_members(hid_t g, const char *where, const char *path, strs *out)
{
    hsize_t idx = 0;
    if (H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_name, out) < 0)
        return H5_FAIL("cannot list the members of %s in %s", where, path);
    if (out->oom)
        TS_FAIL(TS_ERR_NOMEM, "out of memory listing the members of %s in %s", where, path);
    return TS_OK;
}

/* A member `name` of `parent` does not exist: an error naming the nearest sibling. Collective. */
static ts_err missing_member(rd *r, const char *parent, const char *name, const char *group)
{
    strs sib = {0};
    const hid_t pg = H5Oopen(r->fid, *parent ? parent : "/", H5P_DEFAULT);
    ts_err err = agree(r, pg < 0 ? H5_FAIL("cannot open group %s in %s", parent, r->path)
                                 : list_members(pg, *parent ? parent : "/", r->path, &sib));
    if (pg >= 0)
        H5Oclose(pg);
    if (!err) {
        const char *near = closest(name, &sib);
        char hint[1200] = "";
        if (near)
            snprintf(hint, sizeof hint, " (closest: %s/%s)", parent, near);
        err = agree(r, ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__, "no group %s in %s%s", group,
                                      r->path, hint));
    }
    strs_free(&sib);
    return err;
}

/* Opens group `group`, walking its path so a missing component is reported with its nearest sibling.
 * Collective. */
static ts_err open_group(rd *r, const char *group, hid_t *g)
{
    char prefix[1024] = "";
    size_t at = 0;
    *g = -1;
    for (const char *p = group; *p;) {
        while (*p == '/')
            p++;
        const size_t len = strcspn(p, "/");
        if (!len)
            break;
        char parent[sizeof prefix];
        memcpy(parent, prefix, at + 1);
        if (at + len + 2 > sizeof prefix)
            return agree(r, ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__, "group path %s is too long",
                                           group));
        prefix[at++] = '/';
        memcpy(prefix + at, p, len);
        prefix[at += len] = '\0';
        const htri_t ex = H5Lexists(r->fid, prefix, H5P_DEFAULT);
        TS_TRY(agree(r, ex < 0 ? H5_FAIL("cannot look up %s in %s", prefix, r->path) : TS_OK));
        if (!ex) {
            char name[sizeof prefix];
            snprintf(name, sizeof name, "%.*s", (int)len, p);
            TS_TRY(missing_member(r, parent, name, group));
        }
        p += len;
    }
    *g = H5Oopen(r->fid, at ? prefix : "/", H5P_DEFAULT);
    ts_err err = *g < 0 ? H5_FAIL("cannot open group %s in %s", group, r->path) : TS_OK;
    if (!err && H5Iget_type(*g) != H5I_GROUP)
        err = ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__,
                             "%s in %s is a dataset, not a table (a group)", group, r->path);
    err = agree(r, err);
    if (err && *g >= 0) {
        H5Oclose(*g);
        *g = -1;
    }
    return err;
}

/* The length of obj when it is a 1-D dataset, else -1. */
static int64_t dataset_length(hid_t obj)
{
    if (H5Iget_type(obj) != H5I_DATASET)
        return -1;
    const hid_t sp = H5Dget_space(obj);
    hsize_t dim = 0;
    const int ok = sp >= 0 && H5Sget_simple_extent_ndims(sp) == 1 && H5Sget_simple_extent_dims(sp, &dim, NULL) == 1;
    if (sp >= 0)
        H5Sclose(sp);
    return ok ? (int64_t)dim : -1;
}

/* Length of member `name` of g when it is a 1-D dataset (-1 otherwise), and whether it is a group. A member
 * that cannot be opened (a dangling soft link) is neither. */
static void member_shape(hid_t g, const char *name, int64_t *len, int *is_group)
{
    const hid_t o = H5Oopen(g, name, H5P_DEFAULT);
    *len = -1, *is_group = 0;
    if (o < 0) {
        H5Eclear2(H5E_DEFAULT);
        return;
    }
    *len = dataset_length(o);
    *is_group = H5Iget_type(o) == H5I_GROUP;
    H5Oclose(o);
}

/* ---- schema ---------------------------------------------------------------------------------------- */

/* The group being read and this rank's slab. */
typedef struct tbl {
    rd *r;
    hid_t g;
    const char *where;    /* group path, for messages */
    int64_t n;            /* global rows; -1 until known */
    char first[TS_NAME_MAX + 32]; /* what fixed n, for messages */
    int64_t r0, count;    /* this rank's first row and row count */
} tbl;

typedef struct schema {
    int tessera;     /* a `columns` attribute: Tessera's layout */
    strs names;      /* column names, in table order */
    strs types;      /* Tessera: logical type per column */
    strs keys;       /* Tessera: sort keys */
} schema;

static void schema_free(schema *s)
{
    strs_free(&s->names), strs_free(&s->types), strs_free(&s->keys);
}

/* Fixes the global row count from the first column (or nrows), and checks every later one against it. Local
 * result, identical on every rank. */
static ts_err set_rows(tbl *t, int64_t n, const char *what)
{
    if (t->n < 0) {
        const int64_t p = t->r->ctx.size, r = t->r->ctx.rank;
        t->n = n;
        snprintf(t->first, sizeof t->first, "%s", what);
        /* r*n/p and (r+1)*n/p without overflowing r*n: n = q*p + m */
        const int64_t q = n / p, m = n % p;
        t->r0 = q * r + m * r / p;
        t->count = q * (r + 1) + m * (r + 1) / p - t->r0;
        return TS_OK;
    }
    if (n != t->n)
        TS_FAIL(TS_ERR_DATA, "table %s in %s: %s has %lld rows but %s has %lld", t->where, t->r->path, what,
                (long long)n, t->first, (long long)t->n);
    return TS_OK;
}

static ts_err read_nrows(tbl *t)
{
    int yes = 0;
    TS_TRY(agree(t->r, has_attr(t->g, "nrows", t->where, t->r->path, &yes)));
    if (!yes)
        return TS_OK;
    int64_t n = -1;
    const hid_t a = H5Aopen(t->g, "nrows", H5P_DEFAULT);
    ts_err err = a < 0 || H5Aread(a, H5T_NATIVE_INT64, &n) < 0
                     ? H5_FAIL("cannot read attribute 'nrows' of %s in %s", t->where, t->r->path)
                     : TS_OK;
    if (a >= 0)
        H5Aclose(a);
    if (!err && n < 0)
        err = ts_error_raise(TS_ERR_DATA, __FILE__, __LINE__, __func__, "table %s in %s: nrows is %lld", t->where,
                             t->r->path, (long long)n);
    if (!err)
        err = set_rows(t, n, "the nrows attribute");
    TS_TRY(agree(t->r, err));
    return TS_OK;
}

static ts_err tessera_schema(tbl *t, schema *s)
{
    rd *r = t->r;
    TS_TRY(agree(r, attr_strings(t->g, "columns", t->where, r->path, &s->names)));
    TS_TRY(agree(r, attr_strings(t->g, "types", t->where, r->path, &s->types)));
    if (s->types.n != s->names.n)
        TS_TRY(agree(r, ts_error_raise(TS_ERR_DATA, __FILE__, __LINE__, __func__,
                                       "table %s in %s: %d columns but %d types", t->where, r->path,
                                       s->names.n, s->types.n)));
    int yes = 0;
    TS_TRY(agree(r, has_attr(t->g, "sort_keys", t->where, r->path, &yes)));
    if (yes)
        TS_TRY(agree(r, attr_strings(t->g, "sort_keys", t->where, r->path, &s->keys)));
    TS_TRY(read_nrows(t));
    return TS_OK;
}

/* Every 1-D dataset of a group without a `columns` attribute, in name order. */
static ts_err generic_schema(tbl *t, schema *s)
{
    rd *r = t->r;
    strs all = {0};
    ts_err err = agree(r, list_members(t->g, t->where, r->path, &all));
    for (int i = 0; !err && i < all.n; i++) {
        int64_t len;
        int is_group;
        member_shape(t->g, all.v[i], &len, &is_group);
        err = agree(r, len >= 0 ? strs_add(&s->names, all.v[i], strlen(all.v[i])) : TS_OK);
    }
    strs_free(&all);
    if (!err && s->names.n == 0)
        err = agree(r, ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__,
                                      "group %s in %s is not a table: it has no `columns` attribute and no 1-D "
                                      "datasets", t->where, r->path));
    TS_TRY(err);
    return TS_OK;
}

static ts_err load_schema(tbl *t, schema *s)
{
    int yes = 0;
    TS_TRY(agree(t->r, has_attr(t->g, "columns", t->where, t->r->path, &yes)));
    s->tessera = yes;
    TS_TRY(yes ? tessera_schema(t, s) : generic_schema(t, s));
    return TS_OK;
}

/* The schema indices of the requested columns (all when columns == NULL). Local, identical on every rank. */
static ts_err select_columns(const tbl *t, const schema *s, const char *const *columns, int ncols, int *sel,
                             int *nsel)
{
    const int n = columns ? ncols : s->names.n; /* sel has room for n */
    for (int i = 0; i < n; i++) {
        sel[i] = columns ? strs_find(&s->names, columns[i]) : i;
        if (sel[i] < 0) {
            const char *near = closest(columns[i], &s->names);
            TS_FAIL(TS_ERR_USAGE, "table %s in %s has no column '%s'%s%s%s", t->where, t->r->path, columns[i],
                    near ? " (closest: '" : "", near ? near : "", near ? "')" : "");
        }
        for (int j = 0; j < i; j++)
            if (sel[j] == sel[i])
                TS_FAIL(TS_ERR_USAGE, "table %s in %s: column '%s' is requested twice", t->where, t->r->path,
                        columns[i]);
    }
    *nsel = n;
    return TS_OK;
}

/* ---- column types ------------------------------------------------------------------------------------ */

/* What a dataset holds and the memory type to read it with (the file's own type, natively). */
typedef struct src {
    H5T_class_t cls;
    size_t size;
    int is_signed, vlen;
    H5T_str_t pad;
    hid_t mem; /* owned copy; -1 when the class cannot be read */
} src;

static hid_t native_int(size_t size, int is_signed)
{
    switch (size) {
    case 1: return is_signed ? H5T_NATIVE_INT8 : H5T_NATIVE_UINT8;
    case 2: return is_signed ? H5T_NATIVE_INT16 : H5T_NATIVE_UINT16;
    case 4: return is_signed ? H5T_NATIVE_INT32 : H5T_NATIVE_UINT32;
    case 8: return is_signed ? H5T_NATIVE_INT64 : H5T_NATIVE_UINT64;
    default: return -1;
    }
}

static hid_t memory_type(hid_t ft, const src *s)
{
    if (s->cls == H5T_INTEGER && native_int(s->size, s->is_signed) >= 0)
        return H5Tcopy(native_int(s->size, s->is_signed));
    if (s->cls == H5T_FLOAT && (s->size == 4 || s->size == 8))
        return H5Tcopy(s->size == 4 ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE);
    if (s->cls == H5T_STRING && !s->vlen)
        return H5Tcopy(ft); /* same width and padding: no conversion */
    return -1;
}

/* Local. */
static ts_err describe(hid_t dset, const char *what, src *s)
{
    *s = (src){.mem = -1};
    const hid_t ft = H5Dget_type(dset);
    if (ft < 0)
        return H5_FAIL("cannot read the type of %s", what);
    s->cls = H5Tget_class(ft);
    s->size = H5Tget_size(ft);
    s->is_signed = s->cls == H5T_INTEGER && H5Tget_sign(ft) == H5T_SGN_2;
    s->vlen = s->cls == H5T_STRING && H5Tis_variable_str(ft) > 0;
    s->pad = s->cls == H5T_STRING ? H5Tget_strpad(ft) : H5T_STR_NULLPAD;
    s->mem = memory_type(ft, s);
    H5Tclose(ft);
    return TS_OK;
}

/* "int16", "uint64", "float32", "string(8)", ... for messages. */
static const char *src_name(const src *s, char *buf, size_t cap)
{
    static const char *classes[] = {"integer", "float", "time", "string", "bitfield", "opaque", "compound",
                                    "reference", "enum", "variable-length", "array"};
    if (s->cls == H5T_INTEGER)
        snprintf(buf, cap, "%sint%zu", s->is_signed ? "" : "u", 8 * s->size);
    else if (s->cls == H5T_FLOAT)
        snprintf(buf, cap, "float%zu", 8 * s->size);
    else if (s->cls == H5T_STRING)
        snprintf(buf, cap, s->vlen ? "variable-length string" : "string(%zu)", s->size);
    else if (s->cls >= 0 && s->cls < (int)(sizeof classes / sizeof *classes))
        snprintf(buf, cap, "%s", classes[s->cls]);
    else
        snprintf(buf, cap, "HDF5 class %d", (int)s->cls);
    return buf;
}

/* A Tessera logical type name. */
static int parse_type(const char *name, ts_type *type, int *scale)
{
    static const struct { const char *name; ts_type type; } simple[] = {
        {"int32", TS_T_INT32}, {"int64", TS_T_INT64}, {"float64", TS_T_FLOAT64}, {"bool", TS_T_BOOL},
        {"date", TS_T_DATE},   {"string", TS_T_STRING}, {"timestamp", TS_T_TIMESTAMP}};
    *scale = 0;
    for (size_t i = 0; i < sizeof simple / sizeof *simple; i++)
        if (strcmp(name, simple[i].name) == 0) {
            *type = simple[i].type;
            return 1;
        }
    int p, s, end = 0;
    if (sscanf(name, "decimal(%d,%d)%n", &p, &s, &end) == 2 && name[end] == '\0' && p >= 1 && p <= 18 && s >= 0 &&
        s <= p) {
        *type = TS_T_DECIMAL, *scale = s;
        return 1;
    }
    return 0;
}

/* Whether a dataset of kind s can hold column type t (integers are range-checked after the read). */
static int holds(ts_type t, const src *s)
{
    const int i = s->cls == H5T_INTEGER && s->mem >= 0;
    switch (t) {
    case TS_T_BOOL: return i && s->size == 1;
    case TS_T_INT32: return i && (s->size < 4 || (s->size == 4 && s->is_signed));
    case TS_T_DATE:
    case TS_T_INT64:
    case TS_T_DECIMAL: return i;
    case TS_T_TIMESTAMP: return i && s->size == 8 && s->is_signed;
    case TS_T_FLOAT64: return s->cls == H5T_FLOAT && s->mem >= 0;
    default: return s->cls == H5T_STRING && s->mem >= 0;
    }
}

/* The natural column type of a generic dataset. */
static int generic_type(const src *s, int days, ts_type *t)
{
    if (s->cls == H5T_INTEGER && s->mem >= 0)
        *t = days == 1                                     ? TS_T_DATE
             : days == 2 && s->size == 8 && s->is_signed     ? TS_T_TIMESTAMP
             : (s->size < 4 || (s->size == 4 && s->is_signed)) ? TS_T_INT32
                                                               : TS_T_INT64;
    else if (s->cls == H5T_FLOAT && s->mem >= 0)
        *t = TS_T_FLOAT64;
    else if (s->cls == H5T_STRING && s->mem >= 0)
        *t = TS_T_STRING;
    else
        return 0;
    return 1;
}

/* Whether the dataset's `units` say days since the epoch; *units gets the value ("" when absent). Local. */
static ts_err day_units(hid_t dset, const char *where, const char *path, int *days, char *units, size_t cap)
{
    int yes = 0;
    strs u = {0};
    TS_TRY(has_attr(dset, "units", where, path, &yes));
    ts_err err = yes ? attr_strings(dset, "units", where, path, &u) : TS_OK;
    if (err == TS_ERR_DATA) { /* units that are not a string: not a date, whatever they mean */
        ts_error_clear();
        err = TS_OK;
    }
    snprintf(units, cap, "%s", !err && u.n == 1 ? u.v[0] : "");
    *days = is_day_units(units);
    strs_free(&u);
    return err;
}

/* The column type of dataset `name`: from the `types` entry `logical` (Tessera) or from the dataset. Local. */
static ts_err column_type(const tbl *t, hid_t dset, const char *name, const char *logical, const src *s,
                          ts_type *type, int *scale)
{
    char where[1024], units[256], held[64];
    snprintf(where, sizeof where, "column '%s' of %s", name, t->where);
    int days = 0;
    if (s->cls == H5T_INTEGER)
        TS_TRY(day_units(dset, where, t->r->path, &days, units, sizeof units));
    *scale = 0;
    if (!logical) {
        if (!generic_type(s, days, type))
            TS_FAIL(TS_ERR_DATA, "%s in %s: datasets of type %s cannot be read (integers, floats and "
                    "fixed-length strings can)", where, t->r->path, src_name(s, held, sizeof held));
        return TS_OK;
    }
    if (!parse_type(logical, type, scale))
        TS_FAIL(TS_ERR_DATA, "%s in %s has unknown type '%s'", where, t->r->path, logical);
    if (!holds(*type, s))
        TS_FAIL(TS_ERR_DATA, "%s in %s: its type is %s but the dataset holds %s", where, t->r->path, logical,
                src_name(s, held, sizeof held));
    if (*type == TS_T_DATE && days != 1)
        TS_FAIL(TS_ERR_DATA, "%s in %s: a date column needs units = \"%s\", found \"%s\"", where, t->r->path,
                DATE_UNITS, units);
    if (*type == TS_T_TIMESTAMP && days != 2)
        TS_FAIL(TS_ERR_DATA, "%s in %s: a timestamp column needs units = \"%s\", found \"%s\"", where,
                t->r->path, TIMESTAMP_UNITS, units);
    return TS_OK;
}

/* ---- reading ------------------------------------------------------------------------------------------ */

/* Collective read of elements [off, off+count) of a 1-D dataset into buf; a rank with nothing to read still
 * joins, selecting nothing on both sides. Local result. */
static ts_err read_slab(const tbl *t, hid_t dset, hid_t mem, int64_t off, int64_t count, void *buf,
                        const char *what)
{
    char none[16];
    const hsize_t o = (hsize_t)off, c = (hsize_t)count, mdim = count ? c : 1;
    const hid_t fspace = H5Dget_space(dset), mspace = H5Screate_simple(1, &mdim, NULL);
    herr_t rc = fspace < 0 || mspace < 0 ? -1 : 0;
    if (rc >= 0)
        rc = count ? H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &o, NULL, &c, NULL)
                   : H5Sselect_none(fspace) < 0 || H5Sselect_none(mspace) < 0 ? -1 : 0;
    if (rc >= 0)
        rc = H5Dread(dset, mem, mspace, fspace, t->r->dxpl, count ? buf : none);
    const ts_err err = rc < 0 ? H5_FAIL("cannot read %s of %s in %s", what, t->where, t->r->path) : TS_OK;
    if (fspace >= 0)
        H5Sclose(fspace);
    if (mspace >= 0)
        H5Sclose(mspace);
    return err;
}

/* Value i of an integer array (memcpy: the buffer is being rewritten in place under another element type). */
static int64_t int_at(const unsigned char *p, size_t size, int is_signed, int64_t i, int *big)
{
    p += (size_t)i * size;
    switch (size * 2 + (is_signed != 0)) {
    case 3: { int8_t v; memcpy(&v, p, 1); return v; }
    case 2: { uint8_t v; memcpy(&v, p, 1); return v; }
    case 5: { int16_t v; memcpy(&v, p, 2); return v; }
    case 4: { uint16_t v; memcpy(&v, p, 2); return v; }
    case 9: { int32_t v; memcpy(&v, p, 4); return v; }
    case 8: { uint32_t v; memcpy(&v, p, 4); return v; }
    case 17: { int64_t v; memcpy(&v, p, 8); return v; }
    default: { uint64_t v; memcpy(&v, p, 8); *big = v > INT64_MAX; return (int64_t)v; }
    }
}

static void int_put(unsigned char *p, size_t width, int64_t i, int64_t v)
{
    p += (size_t)i * width;
    if (width == 4) {
        const int32_t x = (int32_t)v;
        memcpy(p, &x, 4);
    } else {
        memcpy(p, &v, 8);
    }
}

/* Rewrites n integers of the dataset's size as the column's width, in place: backwards when widening and
 * forwards when narrowing, so no value is overwritten before it is read. Local. */
static ts_err convert_ints(const tbl *t, ts_column *c, const src *s, int64_t n)
{
    const size_t w = ts_type_width(c->type);
    if (c->type == TS_T_BOOL || (s->size == w && s->is_signed))
        return TS_OK;
    unsigned char *p = c->data;
    const int back = w > s->size;
    for (int64_t k = 0; k < n; k++) {
        const int64_t i = back ? n - 1 - k : k;
        int big = 0;
        const int64_t v = int_at(p, s->size, s->is_signed, i, &big);
        if (big || (w == 4 && (v < INT32_MIN || v > INT32_MAX)))
            TS_FAIL(TS_ERR_DATA, "column '%s' of %s in %s, row %lld: value %s%llu does not fit in %s", c->name,
                    t->where, t->r->path, (long long)(t->r0 + i), v < 0 && !big ? "-" : "",
                    big ? (unsigned long long)v : v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v,
                    w == 4 ? "int32" : "int64");
        int_put(p, w, i, v);
    }
    return TS_OK;
}

/* BOOL columns hold 0 or 1; a uint8 dataset can hold any byte (other writers, corrupt files): nonzero is true. */
static void normalize_bools(ts_column *c, int64_t n)
{
    uint8_t *p = c->data;
    for (int64_t i = 0; c->type == TS_T_BOOL && i < n; i++)
        p[i] = p[i] != 0;
}

static void widen_floats(ts_column *c, const src *s, int64_t n)
{
    if (s->size == 8)
        return;
    unsigned char *p = c->data;
    for (int64_t i = n - 1; i >= 0; i--) {
        float f;
        memcpy(&f, p + 4 * i, 4);
        const double d = f;
        memcpy(p + 8 * i, &d, 8);
    }
}

/* Fixed-width column: read in the dataset's type straight into c->data, then widen in place. Collective. */
static ts_err read_fixed(tbl *t, hid_t dset, const src *s, ts_column *c)
{
    const size_t w = ts_type_width(c->type);
    const int64_t in_place = (int64_t)(((size_t)t->count * s->size + w - 1) / w); /* rows the raw data fills */
    ts_err err = agree(t->r, ts_column_reserve(c, in_place > t->count ? in_place : t->count, 0));
    if (!err)
        err = agree(t->r, read_slab(t, dset, s->mem, t->r0, t->count, c->data, c->name));
    if (!err) {
        if (s->cls == H5T_FLOAT)
            widen_floats(c, s, t->count);
        normalize_bools(c, t->count);
        err = agree(t->r, s->cls == H5T_INTEGER ? convert_ints(t, c, s, t->count) : TS_OK);
    }
    TS_TRY(err);
    c->len = t->count;
    return TS_OK;
}

/* Fixed-length strings: one buffer for the slab, then packed into offsets + bytes without the padding. */
static ts_err pack_strings(ts_column *c, const char *buf, int64_t n, size_t w, H5T_str_t pad)
{
    int64_t total = 0;
    for (int64_t i = 0; i < n; i++)
        total += (int64_t)padded_len(buf + (size_t)i * w, w, pad);
    TS_TRY(ts_column_reserve(c, n, total));
    int64_t *off = TS_COL(c, int64_t);
    off[0] = 0;
    for (int64_t i = 0; i < n; i++) {
        const char *p = buf + (size_t)i * w;
        const size_t len = padded_len(p, w, pad);
        if (len)
            memcpy(c->bytes + off[i], p, len);
        off[i + 1] = off[i] + (int64_t)len;
    }
    c->len = n, c->nbytes = off[n];
    return TS_OK;
}

/* Collective. */
static ts_err read_strings(tbl *t, hid_t dset, const src *s, ts_column *c)
{
    size_t bytes;
    void *buf = NULL;
    ts_err err = TS_OK;
    if (__builtin_mul_overflow((size_t)t->count, s->size, &bytes) || ts_alloc(bytes, &buf) != TS_OK)
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "column '%s' of %s in %s: %lld strings "
                             "of %zu bytes do not fit in memory", c->name, t->where, t->r->path,
                             (long long)t->count, s->size);
    err = agree(t->r, err);
    if (!err)
        err = agree(t->r, read_slab(t, dset, s->mem, t->r0, t->count, buf, c->name));
    if (!err)
        err = agree(t->r, pack_strings(c, buf, t->count, s->size, s->pad));
    ts_free(buf);
    TS_TRY(err);
    return TS_OK;
}

/* A dataset column (everything but bytes+offsets). Collective; *out is set even on failure (caller frees). */
static ts_err read_dataset_column(tbl *t, hid_t dset, const char *name, const char *logical, ts_column **out)
{
    char what[TS_NAME_MAX + 32];
    snprintf(what, sizeof what, "column '%s'", name);
    src s = {.mem = -1};
    const int64_t len = dataset_length(dset);
    ts_err err = len < 0 ? ts_error_raise(TS_ERR_DATA, __FILE__, __LINE__, __func__, "%s of %s in %s is not a "
                                          "1-D dataset", what, t->where, t->r->path)
                         : describe(dset, what, &s);
    err = agree(t->r, err ? err : set_rows(t, len, what));
    ts_type type = TS_T_INT64;
    int scale = 0;
    if (!err)
        err = agree(t->r, column_type(t, dset, name, logical, &s, &type, &scale));
    if (!err)
        err = agree(t->r, ts_column_new(name, type, scale, NULL, out));
    if (!err)
        err = type == TS_T_STRING ? read_strings(t, dset, &s, *out) : read_fixed(t, dset, &s, *out);
    if (s.mem >= 0)
        H5Tclose(s.mem);
    TS_TRY(err);
    return TS_OK;
}

/* Opens member `name` of g as a 1-D integer dataset; *n gets its length. Local. */
static ts_err open_part(const tbl *t, hid_t g, const char *col, const char *name, hid_t *d, int64_t *n)
{
    *d = H5Dopen2(g, name, H5P_DEFAULT);
    if (*d < 0)
        return H5_FAIL("cannot open %s/%s/%s in %s", t->where, col, name, t->r->path);
    const hid_t ft = H5Dget_type(*d);
    const int ok = ft >= 0 && H5Tget_class(ft) == H5T_INTEGER;
    if (ft >= 0)
        H5Tclose(ft);
    if (!ok || (*n = dataset_length(*d)) < 0)
        TS_FAIL(TS_ERR_DATA, "%s/%s/%s in %s is not a 1-D integer dataset", t->where, col, name, t->r->path);
    return TS_OK;
}

/* This rank's offsets [r0, r0+count] must ascend within the bytes. Local. */
static ts_err check_offsets(const tbl *t, const ts_column *c, int64_t nbytes)
{
    const int64_t *o = TS_COL(c, int64_t);
    for (int64_t i = 0; i <= t->count; i++)
        if (o[i] < 0 || o[i] > nbytes || (i && o[i] < o[i - 1]))
            TS_FAIL(TS_ERR_DATA, "column '%s' of %s in %s: offsets[%lld] = %lld is out of order or outside the "
                    "%lld bytes", c->name, t->where, t->r->path, (long long)(t->r0 + i), (long long)o[i],
                    (long long)nbytes);
    return TS_OK;
}

/* bytes+offsets: this rank's offsets slab [r0, r1+1), then the bytes between its first and last offset. */
static ts_err read_bytes_parts(tbl *t, hid_t offs, hid_t bytes, int64_t nbytes, ts_column *c)
{
    ts_err err = agree(t->r, ts_column_reserve(c, t->count, 0));
    if (!err)
        err = agree(t->r, read_slab(t, offs, H5T_NATIVE_INT64, t->r0, t->count + 1, c->data, c->name));
    if (!err)
        err = agree(t->r, check_offsets(t, c, nbytes));
    int64_t *o = TS_COL(c, int64_t);
    const int64_t b0 = err ? 0 : o[0], len = err ? 0 : o[t->count] - b0;
    if (!err)
        err = agree(t->r, ts_column_reserve(c, t->count, len));
    if (!err)
        err = agree(t->r, read_slab(t, bytes, H5T_NATIVE_UINT8, b0, len, c->bytes, c->name));
    TS_TRY(err);
    o = TS_COL(c, int64_t);
    for (int64_t i = 0; i <= t->count; i++)
        o[i] -= b0;
    c->len = t->count, c->nbytes = len;
    return TS_OK;
}

/* A bytes+offsets sub-group. Collective; *out is set even on failure (caller frees). */
static ts_err read_bytes_column(tbl *t, hid_t sub, const char *name, const char *logical, ts_column **out)
{
    char where[1024];
    snprintf(where, sizeof where, "column '%s' of %s", name, t->where);
    hid_t offs = -1, bytes = -1;
    int64_t noffs = 0, nbytes = 0;
    ts_err err = TS_OK;
    if (!logical || strcmp(logical, "string") != 0)
        err = ts_error_raise(TS_ERR_DATA, __FILE__, __LINE__, __func__, "%s in %s is a group, not a column "
                             "dataset (only string columns are stored as bytes+offsets groups)", where, t->r->path);
    err = agree(t->r, err);
    if (!err)
        err = agree(t->r, open_part(t, sub, name, "offsets", &offs, &noffs));
    if (!err)
        err = agree(t->r, open_part(t, sub, name, "bytes", &bytes, &nbytes));
    if (!err)
        err = agree(t->r, noffs < 1 ? ts_error_raise(TS_ERR_DATA, __FILE__, __LINE__, __func__,
                                                     "%s in %s: empty offsets", where, t->r->path)
                                    : set_rows(t, noffs - 1, where));
    if (!err)
        err = agree(t->r, ts_column_new(name, TS_T_STRING, 0, NULL, out));
    if (!err)
        err = read_bytes_parts(t, offs, bytes, nbytes, *out);
    if (offs >= 0)
        H5Dclose(offs);
    if (bytes >= 0)
        H5Dclose(bytes);
    TS_TRY(err);
    return TS_OK;
}

/* Local: nulls where the uint8 companion holds 0. */
static ts_err apply_validity(ts_column *c, const uint8_t *v, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (!v[i])
            TS_TRY(ts_column_set_null(c, i));
    return TS_OK;
}

/* The "<name>.valid" companion, when there is one. Collective. */
static ts_err read_validity(tbl *t, ts_column *c)
{
    char name[TS_NAME_MAX + 8], what[TS_NAME_MAX + 32];
    snprintf(name, sizeof name, "%s.valid", c->name);
    snprintf(what, sizeof what, "dataset '%s'", name);
    const htri_t ex = H5Lexists(t->g, name, H5P_DEFAULT);
    TS_TRY(agree(t->r, ex < 0 ? H5_FAIL("cannot look up %s/%s in %s", t->where, name, t->r->path) : TS_OK));
    if (!ex)
        return TS_OK;
    void *buf = NULL;
    const hid_t d = H5Dopen2(t->g, name, H5P_DEFAULT);
    const int64_t n = d < 0 ? -1 : dataset_length(d);
    ts_err err = d < 0   ? H5_FAIL("cannot open %s/%s in %s", t->where, name, t->r->path)
                 : n < 0 ? ts_error_raise(TS_ERR_DATA, __FILE__, __LINE__, __func__, "%s/%s in %s is not a 1-D "
                                          "dataset", t->where, name, t->r->path)
                         : set_rows(t, n, what);
    if (!err && ts_alloc((size_t)t->count, &buf) != TS_OK)
        err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory for %s", name);
    err = agree(t->r, err);
    if (!err)
        err = agree(t->r, read_slab(t, d, H5T_NATIVE_UINT8, t->r0, t->count, buf, name));
    if (!err)
        err = agree(t->r, apply_validity(c, buf, t->count));
    ts_free(buf);
    if (d >= 0)
        H5Dclose(d);
    TS_TRY(err);
    return TS_OK;
}

/* One column into the table. Collective. */
static ts_err add_column(tbl *t, const schema *s, int i, ts_table *out)
{
    const char *name = s->names.v[i], *logical = s->tessera ? s->types.v[i] : NULL;
    ts_column *c = NULL;
    const hid_t obj = H5Oopen(t->g, name, H5P_DEFAULT);
    ts_err err = agree(t->r, obj < 0 ? H5_FAIL("cannot open column '%s' of %s in %s", name, t->where,
                                               t->r->path)
                                     : TS_OK);
    if (!err)
        err = H5Iget_type(obj) == H5I_GROUP ? read_bytes_column(t, obj, name, logical, &c)
                                            : read_dataset_column(t, obj, name, logical, &c);
    if (!err && s->tessera)
        err = read_validity(t, c);
    if (obj >= 0)
        H5Oclose(obj);
    if (err) {
        ts_column_free(c);
        TS_TRY(err);
    }
    TS_TRY(agree(t->r, ts_table_adopt(out, c)));
    return TS_OK;
}

/* The longest prefix of the stored sort keys that was read: rows are still sorted by it. */
static void restore_sort(const schema *s, ts_table *out)
{
    const char *keys[8];
    int n = 0;
    while (n < s->keys.n && n < 8 && ts_table_col(out, s->keys.v[n]))
        keys[n] = s->keys.v[n], n++;
    ts_table_set_sorted(out, keys, n);
}

static const char *base_name(const char *group)
{
    const char *end = group + strlen(group);
    while (end > group && end[-1] == '/')
        end--;
    const char *b = end;
    while (b > group && b[-1] != '/')
        b--;
    return b < end ? b : "/";
}

/* Collective. */
static ts_err read_group(rd *r, const char *group, const char *const *columns, int ncols, ts_table **out)
{
    tbl t = {.r = r, .where = group, .n = -1};
    TS_TRY(open_group(r, group, &t.g));
    schema s = {0};
    int *sel = NULL, nsel = 0;
    ts_err err = load_schema(&t, &s);
    if (!err) { /* collective, like every error here: the ranks must not part ways */
        sel = malloc(sizeof *sel * (size_t)((columns ? ncols : s.names.n) + 1));
        err = agree(r, sel ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory"));
    }
    if (!err)
        err = agree(r, select_columns(&t, &s, columns, ncols, sel, &nsel));
    if (!err) {
        char name[TS_NAME_MAX * 2];
        snprintf(name, sizeof name, "%.*s", (int)strcspn(base_name(group), "/"), base_name(group));
        err = agree(r, ts_table_new(name, out));
    }
    for (int i = 0; !err && i < nsel; i++)
        err = add_column(&t, &s, sel[i], *out);
    if (!err)
        restore_sort(&s, *out);
    H5Oclose(t.g);
    schema_free(&s);
    free(sel);
    TS_TRY(err);
    return TS_OK;
}

static ts_err check_read_args(const char *group, const char *const *columns, int ncols, ts_table **out)
{
    if (!out)
        TS_FAIL(TS_ERR_USAGE, "ts_h5_read_table: no output table pointer");
    if (!group || !*group)
        TS_FAIL(TS_ERR_USAGE, "ts_h5_read_table: no group given");
    if (columns && ncols < 0)
        TS_FAIL(TS_ERR_USAGE, "ts_h5_read_table(%s): %d columns", group, ncols);
    for (int i = 0; columns && i < ncols; i++)
        if (!columns[i])
            TS_FAIL(TS_ERR_USAGE, "ts_h5_read_table(%s): column %d is NULL", group, i);
    return TS_OK;
}

ts_err ts_h5_read_table(MPI_Comm comm, const char *path, const char *group, const char *const *columns, int ncols,
                        ts_table **out)
{
    if (out)
        *out = NULL;
    rd r;
    TS_TRY(rd_open(comm, path, check_read_args(group, columns, ncols, out), &r));
    ts_table *t = NULL;
    const ts_err err = read_group(&r, group, columns, ncols, &t);
    rd_close(&r);
    if (err) {
        ts_table_free(t);
        TS_TRY(err);
    }
    *out = t;
    return TS_OK;
}

/* ---- listing --------------------------------------------------------------------------------------- */

typedef struct lister {
    rd *r;
    strs found;
    haddr_t *seen; /* groups already visited: hard links can make cycles */
    int nseen, capseen;
} lister;

static char *join_path(const char *dir, const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    if (p)
        sprintf(p, "%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", name);
    return p;
}

/* Local: whether g was visited already (records it otherwise). */
static ts_err first_visit(lister *l, hid_t g, const char *path, int *first)
{
    H5O_info_t info;
    if (H5Oget_info2(g, &info, H5O_INFO_BASIC) < 0)
        return H5_FAIL("cannot inspect group %s in %s", path, l->r->path);
    *first = 1;
    for (int i = 0; i < l->nseen; i++)
        if (l->seen[i] == info.addr)
            *first = 0;
    if (*first && l->nseen == l->capseen) {
        const int cap = l->capseen ? 2 * l->capseen : 16;
        haddr_t *s = realloc(l->seen, (size_t)cap * sizeof *s);
        if (!s)
            TS_FAIL(TS_ERR_NOMEM, "out of memory listing %s", l->r->path);
        l->seen = s, l->capseen = cap;
    }
    if (*first)
        l->seen[l->nseen++] = info.addr;
    return TS_OK;
}

/* Local: whether the members make g a generic table (1-D datasets of one length only); subgroups in *kids.
 * Opens every member even after a failure, so all ranks make the same (collective) metadata reads. */
static ts_err classify_members(hid_t g, const strs *members, int *table, strs *kids)
{
    int64_t n = -1;
    ts_err err = TS_OK;
    *table = members->n > 0;
    for (int i = 0; i < members->n; i++) {
        int64_t len;
        int is_group;
        member_shape(g, members->v[i], &len, &is_group);
        if (is_group && !err)
            err = strs_add(kids, members->v[i], strlen(members->v[i]));
        if (len < 0 || (n >= 0 && len != n))
            *table = 0;
        n = len;
    }
    return err;
}

static ts_err visit(lister *l, const char *path, int depth);

/* Collective: records g if it is a table and descends into its subgroups unless it is a Tessera table. */
static ts_err visit_group(lister *l, hid_t g, const char *path, int depth)
{
    rd *r = l->r;
    int first = 0, tessera = 0, table = 0;
    strs members = {0}, kids = {0};
    ts_err err = agree(r, first_visit(l, g, path, &first));
    if (!err && first)
        err = agree(r, has_attr(g, "columns", path, r->path, &tessera));
    if (!err && first && !tessera)
        err = agree(r, list_members(g, path, r->path, &members));
    if (!err && first && !tessera)
        err = agree(r, classify_members(g, &members, &table, &kids));
    if (!err && first && (tessera || table))
        err = agree(r, strs_add(&l->found, path, strlen(path)));
    for (int i = 0; !err && depth < MAX_DEPTH && i < kids.n; i++) {
        char *child = join_path(path, kids.v[i]);
        err = agree(r, child ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory"));
        if (!err)
            err = visit(l, child, depth + 1);
        free(child);
    }
    strs_free(&members), strs_free(&kids);
    TS_TRY(err);
    return TS_OK;
}

static ts_err visit(lister *l, const char *path, int depth)
{
    const hid_t g = H5Gopen2(l->r->fid, path, H5P_DEFAULT);
    ts_err err = agree(l->r, g < 0 ? H5_FAIL("cannot open group %s in %s", path, l->r->path) : TS_OK);
    if (!err)
        err = visit_group(l, g, path, depth);
    if (g >= 0)
        H5Gclose(g);
    TS_TRY(err);
    return TS_OK;
}

/* One block: the pointer array, then the strings. Local. */
static ts_err pack_names(const strs *s, char ***names)
{
    size_t bytes = (size_t)s->n * sizeof(char *);
    for (int i = 0; i < s->n; i++)
        bytes += strlen(s->v[i]) + 1;
    *names = NULL;
    if (!s->n)
        return TS_OK;
    char **v = malloc(bytes);
    if (!v)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for %d table names", s->n);
    char *at = (char *)(v + s->n);
    for (int i = 0; i < s->n; i++) {
        v[i] = at;
        at = stpcpy(at, s->v[i]) + 1;
    }
    *names = v;
    return TS_OK;
}

ts_err ts_h5_list_tables(MPI_Comm comm, const char *path, char ***names, int *n)
{
    const ts_err args = !names || !n ? ts_error_raise(TS_ERR_USAGE, __FILE__, __LINE__, __func__,
                                                      "ts_h5_list_tables: no output pointers")
                                     : TS_OK;
    if (names)
        *names = NULL;
    if (n)
        *n = 0;
    rd r;
    TS_TRY(rd_open(comm, path, args, &r));
    lister l = {.r = &r};
    ts_err err = visit(&l, "/", 0);
    if (!err)
        err = agree(&r, pack_names(&l.found, names));
    if (!err)
        *n = l.found.n;
    strs_free(&l.found);
    free(l.seen);
    rd_close(&r);
    TS_TRY(err);
    return TS_OK;
}
