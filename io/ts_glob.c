#include "ts_glob.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_SEGMENTS 64
#define MAX_DEPTH 64

typedef struct matches {
    ts_file_info *list;
    int n, cap;
    ts_err err;
} matches;

static int has_magic(const char *s) { return strpbrk(s, "*?[") != NULL; }


static void add_file(matches *m, const char *path, const struct stat *st)
{
    if (m->err)
        return;
    if (strlen(path) >= sizeof m->list->path) {
        m->err = ts_error_raise(TS_ERR_IO, __FILE__, __LINE__, __func__, "path too long: '%.80s...'", path);
        return;
    }
    if (m->n == m->cap) {
        const int cap = m->cap ? 2 * m->cap : 16;
        ts_file_info *g = realloc(m->list, sizeof *g * (size_t)cap);
        if (!g) {
            m->err = ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory listing files");
            return;
        }
        m->list = g, m->cap = cap;
    }
    ts_file_info *f = &m->list[m->n++];
    memset(f, 0, sizeof *f);
    strcpy(f->path, path);
    f->size = st->st_size;
    const size_t l = strlen(path);
    f->gz = l > 3 && !strcmp(path + l - 3, ".gz");
    f->parquet = l > 8 && !strcmp(path + l - 8, ".parquet");
}

static void join(char *out, size_t cap, const char *dir, const char *name)
{
    if (!dir[0])
        snprintf(out, cap, "%s", name);
    else if (dir[strlen(dir) - 1] == '/')
        snprintf(out, cap, "%s%s", dir, name);
    else
        snprintf(out, cap, "%s/%s", dir, name);
}

/* Files under dir whose names end in suffix (hidden and '_' names skipped), recursively. */
static void walk_suffix(matches *m, const char *dir, const char *suffix, int depth)
{
    if (m->err || depth > MAX_DEPTH)
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while (!m->err && (e = readdir(d))) {
        if (e->d_name[0] == '.' || e->d_name[0] == '_')
            continue;
        char path[4096];
        join(path, sizeof path, dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        const size_t l = strlen(e->d_name), s = strlen(suffix);
        if (S_ISDIR(st.st_mode))
            walk_suffix(m, path, suffix, depth + 1);
        else if (S_ISREG(st.st_mode) && l > s && !strcmp(e->d_name + l - s, suffix))
            add_file(m, path, &st);
    }
    closedir(d);
}

/* Matches segments seg[i..n) below dir. */
static void match(matches *m, const char *dir, char **seg, int i, int n, int depth)
{
    if (m->err || depth > MAX_DEPTH)
        return;
    struct stat st;
    if (i == n) {
        /* a file reached through * or **: not Spark's markers and temporaries (_SUCCESS, .part-*.tmp) */
        const char *base = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
        const int hidden = i > 0 && has_magic(seg[i - 1]) && (base[0] == '_' || base[0] == '.') &&
                           seg[i - 1][0] != '_' && seg[i - 1][0] != '.';
        if (!hidden && stat(dir, &st) == 0 && S_ISREG(st.st_mode))
            add_file(m, dir, &st);
        return;
    }
    if (!strcmp(seg[i], "**")) {
        match(m, dir, seg, i + 1, n, depth); /* zero directories */
        DIR *d = opendir(dir[0] ? dir : ".");
        if (!d)
            return;
        struct dirent *e;
        while (!m->err && (e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char path[4096];
            join(path, sizeof path, dir, e->d_name);
            if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
                match(m, path, seg, i, n, depth + 1); /* one more directory */
        }
        closedir(d);
        return;
    }
    if (!has_magic(seg[i])) {
        char path[4096];
        join(path, sizeof path, dir, seg[i]);
        if (stat(path, &st) == 0 && (i + 1 == n || S_ISDIR(st.st_mode)))
            match(m, path, seg, i + 1, n, depth);
        return;
    }
    DIR *d = opendir(dir[0] ? dir : ".");
    if (!d)
        return;
    struct dirent *e;
    while (!m->err && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || fnmatch(seg[i], e->d_name, FNM_PERIOD))
            continue;
        char path[4096];
        join(path, sizeof path, dir, e->d_name);
        if (stat(path, &st) != 0)
            continue;
        if (i + 1 == n ? S_ISREG(st.st_mode) : S_ISDIR(st.st_mode))
            match(m, path, seg, i + 1, n, depth);
    }
    closedir(d);
}

static int cmp_paths(const void *a, const void *b)
{
    return strcmp(((const ts_file_info *)a)->path, ((const ts_file_info *)b)->path);
}

ts_err ts_glob_files(const char *pattern, const char *suffix, ts_file_info **files, int *n)
{
    *files = NULL, *n = 0;
    matches m = {0};
    struct stat st;
    char copy[4096];
    if (strlen(pattern) >= sizeof copy)
        TS_FAIL(TS_ERR_IO, "path too long: '%.80s...'", pattern);
    if (stat(pattern, &st) == 0 && S_ISREG(st.st_mode)) {
        add_file(&m, pattern, &st);
    } else if (stat(pattern, &st) == 0 && S_ISDIR(st.st_mode)) {
        walk_suffix(&m, pattern, suffix, 0);
    } else {
        strcpy(copy, pattern);
        char *seg[MAX_SEGMENTS];
        int ns = 0;
        for (char *s = strtok(copy, "/"); s && ns < MAX_SEGMENTS - 1; s = strtok(NULL, "/"))
            seg[ns++] = s;
        static char any[] = "*";
        if (ns && !strcmp(seg[ns - 1], "**")) /* a trailing ** means every file below */
            seg[ns++] = any;
        match(&m, pattern[0] == '/' ? "/" : "", seg, 0, ns, 0);
    }
    if (m.err) {
        free(m.list);
        return m.err;
    }
    if (m.n == 0) {
        free(m.list);
        TS_FAIL(TS_ERR_IO, "no file matches '%s'", pattern);
    }
    qsort(m.list, (size_t)m.n, sizeof *m.list, cmp_paths);
    int k = 0;
    for (int i = 0; i < m.n; i++)
        if (k == 0 || strcmp(m.list[k - 1].path, m.list[i].path))
            m.list[k++] = m.list[i];
    for (int i = 0; i < k; i++) {
        const char *slash = strrchr(m.list[i].path, '/');
        m.list[i].base_off = slash ? (int)(slash + 1 - m.list[i].path) : 0;
    }
    *files = m.list, *n = k;
    return TS_OK;
}
