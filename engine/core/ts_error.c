#include "ts_error.h"

#include <stdio.h>
#include <string.h>

#define TS_ERROR_CAP 4096

static char g_message[TS_ERROR_CAP];
static char g_headline[512];
static size_t g_len;
static int g_shared;

ts_err ts_error_raise(ts_err code, const char *file, int line, const char *func, const char *fmt, ...)
{
    va_list ap;
    g_shared = 0;
    va_start(ap, fmt);
    int n = vsnprintf(g_message, sizeof g_message, fmt, ap);
    va_end(ap);
    g_len = n < 0 ? 0 : ((size_t)n >= sizeof g_message ? sizeof g_message - 1 : (size_t)n);
    ts_error_trace(file, line, func);
    return code;
}

void ts_error_trace(const char *file, int line, const char *func)
{
    if (g_len + 1 >= sizeof g_message)
        return;
    int n = snprintf(g_message + g_len, sizeof g_message - g_len, "\n  at %s (%s:%d)", func, file, line);
    if (n > 0)
        g_len += (size_t)n < sizeof g_message - g_len ? (size_t)n : sizeof g_message - g_len - 1;
}

const char *ts_error_message(void) { return g_message; }

const char *ts_error_headline(void)
{
    size_t n = strcspn(g_message, "\n");
    if (n >= sizeof g_headline)
        n = sizeof g_headline - 1;
    memcpy(g_headline, g_message, n);
    g_headline[n] = '\0';
    return g_headline;
}

void ts_error_set_message(const char *msg)
{
    snprintf(g_message, sizeof g_message, "%s", msg);
    g_len = strlen(g_message);
}

void ts_error_clear(void) { g_message[0] = '\0', g_len = 0, g_shared = 0; }
void ts_error_mark_shared(void) { g_shared = 1; }
int ts_error_is_shared(void) { return g_shared; }

size_t ts_error_rank_tag(const char *msg)
{
    if (strncmp(msg, "rank ", 5))
        return 0;
    const char *p = msg + 5;
    while (*p >= '0' && *p <= '9')
        p++;
    return p > msg + 5 && p[0] == ':' && p[1] == ' ' ? (size_t)(p + 2 - msg) : 0;
}

const char *ts_error_code_name(ts_err code)
{
    switch (code) {
    case TS_OK: return "success";
    case TS_ERR_USAGE: return "usage error";
    case TS_ERR_IO: return "I/O error";
    case TS_ERR_DATA: return "bad input data";
    case TS_ERR_NOMEM: return "out of memory";
    case TS_ERR_MPI: return "MPI error";
    case TS_ERR_CANCELLED: return "cancelled";
    default: return "internal error";
    }
}
