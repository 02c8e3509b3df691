#include "gen_outdir.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int gen_io_fail(const char *what, const char *path)
{
    fprintf(stderr, "tessera-gen: cannot %s %s: %s\n", what, path, strerror(errno));
    return 3;
}

int gen_make_dirs(const char *dir)
{
    char p[4096];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) {
        errno = ENAMETOOLONG;
        return gen_io_fail("create", dir);
    }
    for (char *s = p + 1;; s++) {
        const char c = *s;
        if (c != '/' && c != '\0')
            continue;
        *s = '\0';
        struct stat st;
        if (mkdir(p, 0755) != 0 && !(errno == EEXIST && stat(p, &st) == 0 && S_ISDIR(st.st_mode))) {
            if (errno == EEXIST)
                errno = ENOTDIR;
            return gen_io_fail("create", p);
        }
        *s = c;
        if (c == '\0')
            return 0;
    }
}

static int is_part_file(const char *name)
{
    const size_t n = strlen(name);
    return strncmp(name, "part-", 5) == 0 &&
           ((n > 9 && strcmp(name + n - 4, ".csv") == 0) || (n > 12 && strcmp(name + n - 7, ".csv.gz") == 0));
}

static int remove_stale_parts(const char *tdir)
{
    DIR *d = opendir(tdir);
    if (!d)
        return gen_io_fail("open", tdir);
    struct dirent *e;
    int rc = 0;
    while (!rc && (e = readdir(d))) {
        char path[4096 + 256];
        snprintf(path, sizeof path, "%s/%s", tdir, e->d_name);
        if (is_part_file(e->d_name) && unlink(path) != 0)
            rc = gen_io_fail("remove", path);
    }
    closedir(d);
    return rc;
}

int gen_prepare_outdir(const gen_opts *o)
{
    char manifest[4096], tdir[4096];
    snprintf(manifest, sizeof manifest, "%s/manifest.json", o->out);
    snprintf(tdir, sizeof tdir, "%s/transactions", o->out);
    if (access(manifest, F_OK) == 0) {
        if (!o->overwrite) {
            fprintf(stderr, "tessera-gen: %s already exists; pass --overwrite to replace that data set\n", manifest);
            return 2;
        }
        if (unlink(manifest) != 0)
            return gen_io_fail("remove", manifest);
    }
    /* a snapshot.txt of an earlier --snapshot run would date this data set wrongly */
    char snap[4200];
    snprintf(snap, sizeof snap, "%s/snapshot.txt", o->out);
    if (unlink(snap) != 0 && errno != ENOENT)
        return gen_io_fail("remove", snap);
    int rc = gen_make_dirs(o->out);
    if (!rc)
        rc = gen_make_dirs(tdir);
    return rc ? rc : remove_stale_parts(tdir);
}
