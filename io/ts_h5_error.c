#include "ts_h5_error.h"

#include <stdarg.h>
#include <stdio.h>

#include <hdf5.h>

typedef struct h5_walk {
    char api[256], inner[512];
    hid_t maj, min;
    int frames;
} h5_walk;

static herr_t walk_frame(unsigned n, const H5E_error2_t *e, void *data)
{
    h5_walk *w = data;
    const char *desc = e->desc ? e->desc : "";
    if (n == 0)
        snprintf(w->api, sizeof w->api, "%s", desc);
    snprintf(w->inner, sizeof w->inner, "%s", desc);
    w->maj = e->maj_num, w->min = e->min_num, w->frames++;
    return 0;
}

/* The HDF5 error stack as one line: "API error: innermost error (major, minor)". Clears the stack. */
static void h5_reason(char *buf, size_t cap)
{
    h5_walk w = {.frames = 0};
    const hid_t st = H5Eget_current_stack(); /* a copy: H5Eget_msg below would clear the live stack */
    if (st < 0 || H5Ewalk2(st, H5E_WALK_DOWNWARD, walk_frame, &w) < 0 || w.frames == 0) {
        snprintf(buf, cap, "unknown HDF5 error");
    } else {
        char maj[128] = "", min[128] = "";
        H5Eget_msg(w.maj, NULL, maj, sizeof maj);
        H5Eget_msg(w.min, NULL, min, sizeof min);
        if (w.frames == 1)
            snprintf(buf, cap, "%s (%s, %s)", w.api, maj, min);
        else
            snprintf(buf, cap, "%s: %s (%s, %s)", w.api, w.inner, maj, min);
    }
    if (st >= 0)
        H5Eclose_stack(st);
}

ts_err ts_h5_fail(const char *file, int line, const char *func, const char *fmt, ...)
{
    char what[1024], why[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    h5_reason(why, sizeof why);
    return ts_error_raise(TS_ERR_IO, file, line, func, "%s: %s", what, why);
}
