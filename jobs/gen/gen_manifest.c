#include "gen_manifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_txn.h"
#include "ts_date.h"

/* Reject reasons in domain.md's order, each the name of one gen_kind. */
static const struct { const char *name; int kind; } rejects[] = {
    {"malformed_row", K_MALFORMED},     {"bad_date", K_BAD_DATE},       {"unknown_country", K_UNKNOWN_COUNTRY},
    {"bad_category", K_BAD_CATEGORY},   {"missing_amount", K_MISSING_AMOUNT}, {"bad_amount", K_BAD_AMOUNT},
    {"duplicate", K_DUPLICATE}};
#define NREJECT 7

uint64_t gen_rejected_rows(const gen_totals *t)
{
    uint64_t sum = 0;
    for (int i = 0; i < NREJECT; i++)
        sum += t->kinds[rejects[i].kind];
    return sum;
}

/* Shortest %g text that reads back as the same double (0.02, not 0.02000000000000000042). */
static void fmt_double(char *buf, size_t size, double v)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

static void write_body(FILE *f, const gen_opts *o, const gen_totals *t)
{
    char rate[32], name[64];
    fmt_double(rate, sizeof rate, o->faults);
    const unsigned long long rej = gen_rejected_rows(t);
    fprintf(f, "{\n  \"generator\": \"tessera-gen\",\n  \"version\": \"%s\",\n", TS_VERSION);
    fprintf(f, "  \"rows\": %llu,\n  \"seed\": %llu,\n  \"faults_rate\": %s,\n  \"rows_per_file\": %llu,\n",
            (unsigned long long)o->rows, (unsigned long long)o->seed, rate, (unsigned long long)o->rows_per_file);
    if (o->snapshot) { /* only for K >= 1: snapshot 0's manifest stays what it always was */
        char date[11] = "";
        ts_format_date(gen_snapshot_date(o->snapshot), date);
        fprintf(f, "  \"snapshot\": %llu,\n  \"snapshot_date\": \"%s\",\n", (unsigned long long)o->snapshot, date);
    }
    fprintf(f, "  \"gzip\": %s,\n  \"files\": [\n", o->gzip ? "true" : "false");
    for (uint64_t i = 0; i < t->nfiles; i++) {
        gen_part_name(name, sizeof name, i, o->gzip);
        fprintf(f, "    {\"name\": \"%s\", \"rows\": %llu, \"bytes\": %llu}%s\n", name,
                (unsigned long long)t->file_rows[i], (unsigned long long)t->file_bytes[i],
                i + 1 < t->nfiles ? "," : "");
    }
    fprintf(f, "  ],\n  \"rejects\": {");
    for (int i = 0; i < NREJECT; i++)
        fprintf(f, "%s\"%s\": %llu", i ? ", " : "", rejects[i].name, (unsigned long long)t->kinds[rejects[i].kind]);
    fprintf(f, "},\n  \"rows_rejected\": %llu,\n  \"rows_clean\": %llu,\n", rej,
            (unsigned long long)o->rows - rej);
    /* Kept rows that a reader must normalise, by kind (one kind a row). */
    unsigned long long k[GEN_NKIND];
    for (int i = 0; i < GEN_NKIND; i++)
        k[i] = t->kinds[i];
    fprintf(f,
            "  \"normalized\": {\"date_format\": %llu, \"category_case\": %llu, \"padding\": %llu, "
            "\"quoted_field\": %llu, \"crlf\": %llu},\n",
            k[K_DATE_DMY] + k[K_DATE_YMD_SLASH] + k[K_DATE_COMPACT], k[K_CASE], k[K_PAD], k[K_QUOTED], k[K_CRLF]);
    fprintf(f, "  \"rows_normalized\": %llu,\n  \"reference\": {",
            k[K_DATE_DMY] + k[K_DATE_YMD_SLASH] + k[K_DATE_COMPACT] + k[K_CASE] + k[K_PAD] + k[K_QUOTED] + k[K_CRLF]);
    for (int r = 0; r < GEN_NREF; r++)
        fprintf(f, "%s\"%s\": %llu", r ? ", " : "", gen_ref_names[r], (unsigned long long)t->ref_rows[r]);
    fprintf(f, "}\n}\n");
}

/* DIR/snapshot.txt for --snapshot K >= 1: "snapshot=K" and "snapshot_date=YYYY-MM-DD" lines (the scd2 job
 * takes the snapshot's date from it; a directory without it is snapshot 0, dated 2026-01-01). */
static int write_snapshot_txt(const gen_opts *o)
{
    char path[4096], date[11] = "";
    snprintf(path, sizeof path, "%s/snapshot.txt", o->out);
    ts_format_date(gen_snapshot_date(o->snapshot), date);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "tessera-gen: cannot write %s: %s\n", path, strerror(errno));
        return 3;
    }
    fprintf(f, "snapshot=%llu\nsnapshot_date=%s\n", (unsigned long long)o->snapshot, date);
    const int werr = ferror(f) ? (errno ? errno : EIO) : 0;
    if (fclose(f) != 0 || werr) {
        fprintf(stderr, "tessera-gen: cannot write %s: %s\n", path, strerror(werr ? werr : errno));
        return 3;
    }
    return 0;
}

int gen_write_manifest(const gen_opts *o, const gen_totals *t)
{
    if (o->snapshot && write_snapshot_txt(o) != 0)
        return 3;
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/manifest.json", o->out);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "tessera-gen: cannot write %s: %s\n", tmp, strerror(errno));
        return 3;
    }
    write_body(f, o, t);
    const int werr = ferror(f) ? (errno ? errno : EIO) : 0;
    if (fclose(f) != 0 || werr) {
        fprintf(stderr, "tessera-gen: cannot write %s: %s\n", tmp, strerror(werr ? werr : errno));
        return 3;
    }
    if (rename(tmp, path) != 0) {
        fprintf(stderr, "tessera-gen: cannot rename %s to %s: %s\n", tmp, path, strerror(errno));
        return 3;
    }
    return 0;
}
