#include "gen_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int gen_sink_open(gen_sink *s, const char *path, int gzip)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->gzip = gzip;
    snprintf(s->path, sizeof s->path, "%s", path);
    s->buf = malloc(GEN_SINK_BUF);
    s->zbuf = gzip ? malloc(GEN_SINK_BUF) : NULL;
    if (!s->buf || (gzip && !s->zbuf))
        return s->err = ENOMEM;
    if (gzip) {
        /* windowBits 31 = 15 + 16: a gzip wrapper (mtime 0, so the bytes are reproducible). */
        if (deflateInit2(&s->z, 1, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            return s->err = ENOMEM;
        s->zinit = 1;
    }
    s->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (s->fd < 0)
        return s->err = errno;
    return 0;
}

static int write_all(gen_sink *s, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0 && !s->err) {
        const ssize_t w = write(s->fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            s->err = w < 0 ? errno : EIO;
            break;
        }
        c += w, n -= (size_t)w, s->bytes += (uint64_t)w;
    }
    return s->err;
}

/* Feeds the buffer to deflate and writes whatever it produces (everything, with Z_FINISH). */
static int deflate_out(gen_sink *s, int flush)
{
    s->z.next_in = (unsigned char *)s->buf;
    s->z.avail_in = (uInt)s->len;
    int zr;
    do {
        s->z.next_out = s->zbuf;
        s->z.avail_out = GEN_SINK_BUF;
        zr = deflate(&s->z, flush);
        if (zr == Z_STREAM_ERROR)
            return s->err = EIO;
        write_all(s, s->zbuf, GEN_SINK_BUF - s->z.avail_out);
    } while (!s->err && (s->z.avail_out == 0 || (flush == Z_FINISH && zr != Z_STREAM_END)));
    return s->err;
}

int gen_sink_flush(gen_sink *s)
{
    if (!s->err && s->len)
        s->gzip ? deflate_out(s, Z_NO_FLUSH) : write_all(s, s->buf, s->len);
    s->len = 0; /* on error keep going without writing: the caller checks err once per file */
    return s->err;
}

int gen_sink_close(gen_sink *s)
{
    if (s->fd >= 0 && !s->err)
        s->gzip ? deflate_out(s, Z_FINISH) : write_all(s, s->buf, s->len);
    s->len = 0;
    if (s->zinit)
        deflateEnd(&s->z);
    if (s->fd >= 0 && close(s->fd) != 0 && !s->err)
        s->err = errno;
    s->fd = -1;
    s->zinit = 0;
    free(s->buf);
    free(s->zbuf);
    s->buf = NULL;
    s->zbuf = NULL;
    return s->err;
}

void gen_sink_report(const gen_sink *s)
{
    fprintf(stderr, "tessera-gen: cannot write %s: %s\n", s->path, strerror(s->err));
}
