/* Buffered output file, plain or gzip (zlib level 1). The caller formats straight into the buffer:
 * reserve room, write, commit; full buffers go to write(2) or through deflate. */
#ifndef GEN_SINK_H
#define GEN_SINK_H
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#define GEN_SINK_BUF (4u << 20)

typedef struct gen_sink {
    int fd, gzip, zinit;
    int err; /* errno of the first failure, 0 if none */
    char path[4096];
    z_stream z;
    char *buf;
    size_t len;
    unsigned char *zbuf;
    uint64_t bytes; /* bytes written to the file so far */
} gen_sink;

/* Opens path for writing (truncating); returns 0 or an errno value. */
int gen_sink_open(gen_sink *s, const char *path, int gzip);
/* Empties the buffer into the file; returns 0 or an errno value. */
int gen_sink_flush(gen_sink *s);
/* Finishes the stream and closes; returns 0 or the errno of the first failure (also after earlier ones). */
int gen_sink_close(gen_sink *s);
/* Prints "tessera-gen: cannot write PATH: REASON" to stderr. */
void gen_sink_report(const gen_sink *s);

/* A pointer with room for `need` bytes (need <= GEN_SINK_BUF). */
static inline char *gen_sink_reserve(gen_sink *s, size_t need)
{
    if (s->len + need > GEN_SINK_BUF)
        gen_sink_flush(s);
    return s->buf + s->len;
}

static inline void gen_sink_commit(gen_sink *s, size_t n) { s->len += n; }

#endif
