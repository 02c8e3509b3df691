#include "gen_txn.h"

#include <stdio.h>
#include <string.h>

#include "gen_sink.h"

void gen_part_name(char *buf, size_t size, uint64_t file, int gzip)
{
    snprintf(buf, size, "transactions/part-%05llu.csv%s", (unsigned long long)file, gzip ? ".gz" : "");
}

int gen_write_txn_file(const gen_model *m, const gen_opts *o, uint64_t file, uint64_t *rows, uint64_t *bytes,
                       uint64_t kinds[GEN_NKIND])
{
    const uint64_t first = file * o->rows_per_file;
    const uint64_t end = o->rows - first > o->rows_per_file ? first + o->rows_per_file : o->rows;
    char name[64], path[4096];
    gen_part_name(name, sizeof name, file, o->gzip);
    snprintf(path, sizeof path, "%s/%s", o->out, name);

    gen_sink s;
    uint64_t counts[GEN_NKIND] = {0};
    if (gen_sink_open(&s, path, o->gzip) == 0) {
        const size_t hn = strlen(gen_header);
        memcpy(gen_sink_reserve(&s, hn), gen_header, hn);
        gen_sink_commit(&s, hn);
        gen_line l;
        for (uint64_t r = first; r < end; r++) {
            counts[gen_make_row(m, o->faults, r, first, &l)]++;
            gen_sink_commit(&s, gen_line_emit(&l, gen_sink_reserve(&s, GEN_MAX_LINE)));
        }
    }
    if (gen_sink_close(&s) != 0) {
        gen_sink_report(&s);
        return 3;
    }
    *rows += end - first;
    *bytes += s.bytes;
    for (int k = 0; k < GEN_NKIND; k++)
        kinds[k] += counts[k];
    return 0;
}
