/* Fuzz target: the HDF5 table reader (io/ts_h5_read.h) on arbitrary files.
 *
 * The input bytes are written to a temporary file, which is listed (ts_h5_list_tables) and whose tables are read
 * (ts_h5_read_table: every column, then the last column alone), on one rank (MPI_COMM_SELF; MPI is initialised
 * once in the initialiser). HDF5's own error printing is off (H5Eset_auto). libhdf5 parses the file's structure
 * itself and has bugs of its own on corrupt files: scripts/fuzz.sh runs this target in fork mode and sorts
 * crashes whose top frame is inside libhdf5 apart from crashes in Tessera's code.
 *
 * Invariants checked on every table read:
 *   - every column has the table's row count; booleans are 0 or 1; string offsets start at 0, ascend and end at
 *     the payload size
 *   - recorded sort keys are columns of the table
 *   - reading one column alone gives the same values as reading it with the others
 *   - the listing holds absolute, distinct paths */
#include <hdf5.h>
#include <mpi.h>
#include <unistd.h>

#include "ts_fuzz.h"
#include "ts_h5_read.h"

#define H5_MAX_TABLES 8

static char h5_path[64];

static void h5_finalize(void)
{
    if (h5_path[0])
        unlink(h5_path);
    int done = 0;
    MPI_Finalized(&done);
    if (!done)
        MPI_Finalize();
}

TS_FUZZ_INIT(h5_read)
{
    /* harmless in containers and as root; one rank, so no launcher is needed */
    setenv("OMPI_MCA_btl", "self,vader", 0);
    setenv("OMPI_MCA_btl_vader_single_copy_mechanism", "none", 0);
    setenv("HDF5_USE_FILE_LOCKING", "FALSE", 0);
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited)
        MPI_Init(argc, argv);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    snprintf(h5_path, sizeof h5_path, "/tmp/ts_fuzz_h5_%d.h5", (int)getpid());
    atexit(h5_finalize);
    return 0;
}

static void h5_write_input(const uint8_t *data, size_t size)
{
    FILE *f = fopen(h5_path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
        abort();
}

static void h5_check_table(const ts_table *t)
{
    const int64_t n = ts_table_rows(t);
    for (int c = 0; c < t->ncols; c++) {
        const ts_column *col = t->cols[c];
        TS_FUZZ_ASSERT(col->len == n);
        for (int64_t i = 0; col->type == TS_T_BOOL && i < n; i++)
            TS_FUZZ_ASSERT(TS_COL(col, uint8_t)[i] <= 1);
        if (col->type == TS_T_STRING) {
            const int64_t *off = TS_COL(col, int64_t);
            TS_FUZZ_ASSERT(off[0] == 0 && off[n] == col->nbytes);
            for (int64_t i = 0; i < n; i++)
                TS_FUZZ_ASSERT(off[i] <= off[i + 1]);
        }
    }
    for (int k = 0; k < t->nsort; k++)
        TS_FUZZ_ASSERT(ts_table_col(t, t->sort_keys[k]) != NULL);
}

/* Column c read alone equals column c read with all the others. */
static void h5_check_alone(const char *group, const ts_column *all)
{
    const char *name = all->name;
    ts_table *one = NULL;
    const ts_err err = ts_h5_read_table(MPI_COMM_SELF, h5_path, group, &name, 1, &one);
    if (err != TS_OK) /* it was read with the others from the same file a moment ago */
        fprintf(stderr, "column '%s' of %s cannot be read alone: %s\n", name, group, ts_error_message());
    TS_FUZZ_ASSERT(err == TS_OK);
    TS_FUZZ_ASSERT(one->ncols == 1);
    const ts_column *c = one->cols[0];
    TS_FUZZ_ASSERT(c->type == all->type && c->len == all->len);
    if (c->type == TS_T_STRING) {
        TS_FUZZ_ASSERT(c->nbytes == all->nbytes);
        TS_FUZZ_ASSERT(memcmp(c->data, all->data, (size_t)(c->len + 1) * 8) == 0);
        TS_FUZZ_ASSERT(!c->nbytes || memcmp(c->bytes, all->bytes, (size_t)c->nbytes) == 0);
    } else if (c->len) {
        TS_FUZZ_ASSERT(memcmp(c->data, all->data, (size_t)c->len * ts_type_width(c->type)) == 0);
    }
    for (int64_t i = 0; i < c->len; i++)
        TS_FUZZ_ASSERT(ts_column_is_valid(c, i) == ts_column_is_valid(all, i));
    ts_table_free(one);
}

static void h5_read(const char *group)
{
    ts_table *t = NULL;
    if (ts_h5_read_table(MPI_COMM_SELF, h5_path, group, NULL, 0, &t) != TS_OK) {
        TS_FUZZ_ASSERT(t == NULL);
        ts_error_clear();
        return;
    }
    h5_check_table(t);
    if (t->ncols)
        h5_check_alone(group, t->cols[t->ncols - 1]);
    ts_table_free(t);
}

TS_FUZZ_ENTRY(h5_read)
{
    h5_write_input(data, size);
    char **names = NULL;
    int n = 0;
    if (ts_h5_list_tables(MPI_COMM_SELF, h5_path, &names, &n) != TS_OK) {
        TS_FUZZ_ASSERT(names == NULL && n == 0);
        ts_error_clear();
        h5_read("/t"); /* the listing may fail where a direct read does not */
        return 0;
    }
    for (int i = 0; i < n; i++) {
        TS_FUZZ_ASSERT(names[i][0] == '/');
        for (int j = 0; j < i; j++)
            TS_FUZZ_ASSERT(strcmp(names[i], names[j]) != 0);
    }
    for (int i = 0; i < n && i < H5_MAX_TABLES; i++)
        h5_read(names[i]);
    free(names);
    return 0;
}
