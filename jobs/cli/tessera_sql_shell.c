/* The interactive SQL shell: rank 0 reads and splits the input, every rank runs the statements.
 *
 * Terminal. Run directly (`tessera sql`, `srun --pty`), rank 0's standard input is the terminal: libedit reads it,
 * and Ctrl-C raises SIGINT, whose handler calls ts_interrupt(). Under mpirun, rank 0's standard input is a pipe
 * that mpirun feeds from its own terminal; each rank sits in a process group of its own, so a Ctrl-C on the
 * terminal would reach mpirun alone, which answers it by killing the job (Open MPI 4.1 sends SIGTERM to every
 * rank). Rank 0 cannot take the terminal over either: mpirun keeps a read of it armed and is stopped by SIGTTIN
 * when it reads from the background. So when mpirun's standard input is rank 0's controlling terminal and mpirun
 * runs in the foreground, rank 0 *relays*: it puts the terminal in a mode without signals, canonical input or echo
 * (so mpirun forwards each keystroke at once, Ctrl-C included, as a byte), reads the bytes from its pipe in a SIGIO
 * handler (which turns Ctrl-C into ts_interrupt() and keeps the rest for the line editor), and does the line
 * editing and echo itself on the terminal. It also writes its output to the terminal directly when mpirun's output
 * goes there (so results, errors and prompts keep their order). The terminal's mode is restored on exit and on
 * SIGTERM/SIGHUP. The engine then cancels the running statement on every rank (engine/ts_ctx.h).
 *
 * Ranks other than 0 wait for the next statement in a polled non-blocking broadcast with short sleeps, so idle
 * ranks do not spin while a user types. */
#include "tessera_sql_shell.h"

#include <errno.h>
#include <fcntl.h>
#include <histedit.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "tessera_sql.h"

#define MAX_DEPTH 16 /* nested .read files */
#define HISTORY_SIZE 2000
#define PROMPT "tessera> "
#define PROMPT_MORE "   ...> "

enum { CMD_SQL = 1, CMD_QUIT = 2 };

typedef struct source {
    FILE *f;
    char *name;   /* for messages: "stdin" or the .read file's path */
    int line;     /* lines read so far */
} source;

typedef struct shell {
    ts_ctx *ctx;
    ts_sql_session *session;
    const ts_shell_options *opt;
    int status;                /* exit status: the first failed statement's code (input not a terminal) */
    int timer;
    ts_sql_print_mode mode;
    /* rank 0 only */
    int interactive;           /* reading a terminal with libedit */
    int tty_fd;                /* relay mode: the terminal (mpirun's standard input), else -1 */
    FILE *tty_in, *tty_out;
    EditLine *el;
    History *hist;
    char *hist_path;
    const char *prompt;
    source src[MAX_DEPTH];
    int depth;
    char *pending;             /* statement text read but not yet run */
    size_t plen, pcap;
    int pending_line;          /* source line of pending's first line */
    char *line;                /* getline buffer */
    size_t line_cap;
} shell;

/* ---- splitting the input into statements -------------------------------------------------------------------- */

/* Scans SQL text the way the lexer does (quotes with doubled-quote escapes, -- comments, nestable block comments).
 * Returns the offset just past the first ';' outside them, or -1. *blank: the scanned part holds no SQL (only
 * blanks and comments). With `keep` non-NULL, also writes the text for the history there: comments dropped and line
 * breaks as spaces (at most len + 1 bytes). */
static long scan_sql(const char *t, size_t len, int *blank, char *keep)
{
    size_t k = 0;
    int b = 1;
    for (size_t i = 0; i < len; i++) {
        const char c = t[i];
        if (c == '\'' || c == '"') {
            size_t j = i + 1;
            while (j < len && !(t[j] == c && !(j + 1 < len && t[j + 1] == c)))
                j += t[j] == c ? 2 : 1;
            if (keep)
                memcpy(keep + k, t + i, (j < len ? j + 1 : len) - i), k += (j < len ? j + 1 : len) - i;
            i = j, b = 0;
        } else if (c == '-' && i + 1 < len && t[i + 1] == '-') {
            while (i + 1 < len && t[i + 1] != '\n')
                i++;
        } else if (c == '/' && i + 1 < len && t[i + 1] == '*') {
            int depth = 1;
            for (i += 2; i < len && depth; i++) {
                if (t[i] == '/' && i + 1 < len && t[i + 1] == '*')
                    depth++, i++;
                else if (t[i] == '*' && i + 1 < len && t[i + 1] == '/')
                    depth--, i++;
            }
            i--;
        } else if (c == ';') {
            if (keep)
                keep[k++] = ';', keep[k] = 0;
            *blank = b;
            return (long)i + 1;
        } else {
            if (keep)
                keep[k++] = c == '\n' || c == '\r' || c == '\t' ? ' ' : c;
            b = b && (c == ' ' || c == '\t' || c == '\n' || c == '\r');
        }
    }
    if (keep)
        keep[k] = 0;
    *blank = b;
    return -1;
}

static int is_blank_sql(const char *t, size_t len)
{
    int blank;
    scan_sql(t, len, &blank, NULL);
    return blank;
}

/* ---- rank 0: the terminal ------------------------------------------------------------------------------------ */

static void on_sigint(int sig)
{
    (void)sig;
    ts_interrupt();
}

/* Relay mode: bytes from mpirun's pipe, collected by the SIGIO handler. The main code touches the ring only with
 * SIGIO blocked. */
#define RELAY_RING 8192
static unsigned char relay_ring[RELAY_RING];
static volatile size_t relay_head, relay_tail;
static volatile sig_atomic_t relay_eof;
static int relay_tty = -1;            /* the terminal (for restoring its mode from a signal handler) */
static struct termios relay_saved;

static void on_sigio(int sig)
{
    (void)sig;
    const int saved = errno;
    unsigned char b[512];
    ssize_t n;
    while ((n = read(STDIN_FILENO, b, sizeof b)) > 0)
        for (ssize_t i = 0; i < n; i++) {
            if (b[i] == 3) { /* Ctrl-C: cancel, and drop what was typed ahead, as a terminal flushes its input */
                ts_interrupt();
                relay_head = relay_tail;
            } else if (relay_tail - relay_head < RELAY_RING) {
                relay_ring[relay_tail++ % RELAY_RING] = b[i];
            }
        }
    if (n == 0)
        relay_eof = 1;
    errno = saved;
}

static void on_fatal(int sig)
{
    if (relay_tty >= 0)
        tcsetattr(relay_tty, TCSANOW, &relay_saved);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* libedit's character source in relay mode: the ring, decoded from UTF-8. -1 (EINTR) on Ctrl-C, 0 at the end. */
static int relay_getc(EditLine *el, wchar_t *wc)
{
    (void)el;
    mbstate_t mb;
    memset(&mb, 0, sizeof mb);
    sigset_t io, old;
    sigemptyset(&io);
    sigaddset(&io, SIGIO);
    for (;;) {
        sigprocmask(SIG_BLOCK, &io, &old);
        while (relay_head == relay_tail && !relay_eof && !ts_interrupt_pending())
            sigsuspend(&old);
        if (ts_interrupt_pending()) {
            sigprocmask(SIG_SETMASK, &old, NULL);
            errno = EINTR;
            return -1;
        }
        if (relay_head == relay_tail) { /* the end of the input */
            sigprocmask(SIG_SETMASK, &old, NULL);
            return 0;
        }
        const char ch = (char)relay_ring[relay_head++ % RELAY_RING];
        sigprocmask(SIG_SETMASK, &old, NULL);
        const size_t r = mbrtowc(wc, &ch, 1, &mb);
        if (r == (size_t)-2)
            continue; /* more bytes of this character */
        if (r == (size_t)-1)
            *wc = (unsigned char)ch, memset(&mb, 0, sizeof mb);
        return 1;
    }
}

/* The character device behind an open file of another process (0 when it is none). */
static dev_t proc_fd_device(pid_t pid, int fd)
{
    char path[64];
    struct stat st;
    snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)pid, fd);
    return stat(path, &st) == 0 && S_ISCHR(st.st_mode) ? st.st_rdev : 0;
}

/* Relay mode, when our launcher's standard input is our controlling terminal and the launcher is in the foreground
 * (see the top of the file). Returns 1 when set up. */
static int start_relay(shell *sh)
{
    struct stat st;
    const pid_t launcher = getppid();
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd/0", (int)launcher);
    const int fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC); /* the launcher's standard input itself */
    if (fd < 0)
        return 0;
    if (!isatty(fd) || fstat(fd, &st) != 0 || tcgetsid(fd) != getsid(0) || tcgetpgrp(fd) != getpgid(launcher) ||
        tcgetattr(fd, &relay_saved) != 0) {
        close(fd); /* not our controlling terminal, or the launcher runs in the background */
        return 0;
    }
    const int fl = fcntl(STDIN_FILENO, F_GETFL);
    struct sigaction sa = {0};
    sa.sa_handler = on_sigio;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (fl < 0 || sigaction(SIGIO, &sa, NULL) != 0 || fcntl(STDIN_FILENO, F_SETOWN, getpid()) != 0 ||
        fcntl(STDIN_FILENO, F_SETFL, fl | O_NONBLOCK | O_ASYNC) != 0) {
        close(fd);
        return 0;
    }
    relay_tty = fd;
    /* we set the terminal's mode and write to it from a background process group (mpirun is the foreground one):
     * with SIGTTOU ignored, the terminal lets us */
    signal(SIGTTOU, SIG_IGN);
    signal(SIGTERM, on_fatal);
    signal(SIGHUP, on_fatal);
    /* no signals, canonical input or echo while statements run (libedit's "execute" mode) or a line is edited */
    struct termios t = relay_saved;
    t.c_lflag &= ~(tcflag_t)(ISIG | ICANON | ECHO);
    t.c_cc[VMIN] = 1, t.c_cc[VTIME] = 0;
    tcsetattr(fd, TCSADRAIN, &t);
    /* Write to the terminal directly. The pipes to mpirun stay open (kept as other descriptors): mpirun takes the
     * end of a rank's output as the end of the rank and would close its standard input. */
    fflush(stdout), fflush(stderr);
    if (proc_fd_device(launcher, 1) == st.st_rdev && fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3) >= 0)
        dup2(fd, STDOUT_FILENO);
    if (proc_fd_device(launcher, 2) == st.st_rdev && fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3) >= 0)
        dup2(fd, STDERR_FILENO);
    raise(SIGIO); /* bytes typed before we were ready */
    sh->tty_fd = fd;
    return 1;
}

static void stop_relay(shell *sh)
{
    if (sh->tty_fd < 0)
        return;
    tcsetattr(sh->tty_fd, TCSADRAIN, &relay_saved);
    signal(SIGIO, SIG_IGN);
    const int fl = fcntl(STDIN_FILENO, F_GETFL);
    if (fl >= 0)
        fcntl(STDIN_FILENO, F_SETFL, fl & ~(O_NONBLOCK | O_ASYNC));
    relay_tty = -1;
    close(sh->tty_fd);
    sh->tty_fd = -1;
}

static char *prompt_of(EditLine *el)
{
    shell *sh = NULL;
    el_get(el, EL_CLIENTDATA, &sh);
    return (char *)sh->prompt;
}

static void history_open(shell *sh)
{
    HistEvent ev;
    sh->hist = history_init();
    if (!sh->hist)
        return;
    history(sh->hist, &ev, H_SETSIZE, HISTORY_SIZE);
    history(sh->hist, &ev, H_SETUNIQUE, 1);
    const char *path = getenv("TESSERA_HISTORY"), *home = getenv("HOME");
    if (path && *path)
        sh->hist_path = strdup(path);
    else if (home && *home && asprintf(&sh->hist_path, "%s/.tessera_history", home) < 0)
        sh->hist_path = NULL;
    if (sh->hist_path)
        history(sh->hist, &ev, H_LOAD, sh->hist_path); /* a missing file is fine */
}

static void history_add(shell *sh, const char *entry)
{
    HistEvent ev;
    if (!sh->hist || !*entry)
        return;
    history(sh->hist, &ev, H_ENTER, entry);
    if (sh->hist_path && history(sh->hist, &ev, H_SAVE, sh->hist_path) < 0 && errno != ENOENT) {
        fprintf(stderr, "tessera: cannot write the history file %s: %s (history is kept for this session only)\n",
                sh->hist_path, strerror(errno));
        free(sh->hist_path);
        sh->hist_path = NULL;
    }
}

/* Interactive when rank 0's standard input is a terminal (direct), or in relay mode under mpirun. */
static void terminal_open(shell *sh)
{
    sh->tty_fd = -1;
    int in_fd = STDIN_FILENO, out_fd = isatty(STDOUT_FILENO) ? STDOUT_FILENO : STDIN_FILENO;
    if (!isatty(STDIN_FILENO)) {
        if (!start_relay(sh))
            return;
        in_fd = out_fd = sh->tty_fd;
    }
    sh->tty_in = fdopen(dup(in_fd), "r");
    sh->tty_out = fdopen(dup(out_fd), "w");
    if (!sh->tty_in || !sh->tty_out)
        return;
    sh->el = el_init_fd("tessera", sh->tty_in, sh->tty_out, stderr, fileno(sh->tty_in), fileno(sh->tty_out),
                        STDERR_FILENO);
    if (!sh->el)
        return;
    el_set(sh->el, EL_CLIENTDATA, sh);
    el_set(sh->el, EL_PROMPT, prompt_of);
    el_set(sh->el, EL_EDITOR, "emacs");
    if (sh->tty_fd >= 0) {
        el_set(sh->el, EL_GETCFN, relay_getc);
        el_set(sh->el, EL_SETTY, "-d", "-isig", NULL);                     /* editing a line */
        el_set(sh->el, EL_SETTY, "-x", "-isig", "-icanon", "-echo", NULL); /* between lines */
    } else {
        /* Ctrl-C: no SA_RESTART, so a read at the prompt returns EINTR (the line is dropped); during a
         * statement the engine sees ts_interrupt_pending() at its next cancellation point. */
        struct sigaction sa = {0};
        sa.sa_handler = on_sigint;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
    }
    history_open(sh);
    if (sh->hist)
        el_set(sh->el, EL_HIST, history, sh->hist);
    el_source(sh->el, NULL); /* the user's ~/.editrc, as every libedit program */
    sh->interactive = 1;
}

static void terminal_close(shell *sh)
{
    if (sh->el)
        el_end(sh->el);
    if (sh->hist)
        history_end(sh->hist);
    if (sh->tty_in)
        fclose(sh->tty_in);
    if (sh->tty_out)
        fclose(sh->tty_out);
    free(sh->hist_path);
    stop_relay(sh);
    signal(SIGINT, SIG_DFL);
}

/* ---- rank 0: reading lines ------------------------------------------------------------------------------------- */

typedef enum { LINE_OK, LINE_EOF, LINE_INTERRUPTED } line_status;

/* The next line of the current source into sh->line (without its line break). */
static line_status read_line(shell *sh, const char **out)
{
    source *s = &sh->src[sh->depth - 1];
    if (sh->interactive && sh->depth == 1) {
        int n = 0;
        sh->prompt = sh->plen ? PROMPT_MORE : PROMPT;
        el_resize(sh->el); /* the window may have changed (in relay mode SIGWINCH goes to mpirun, not to us) */
        errno = 0;
        const char *l = el_gets(sh->el, &n);
        if (!l) {
            if (ts_interrupt_pending()) {
                ts_interrupt_clear();
                return LINE_INTERRUPTED;
            }
            return LINE_EOF;
        }
        if ((size_t)n + 1 > sh->line_cap) {
            char *grown = realloc(sh->line, (size_t)n + 1);
            if (!grown)
                return LINE_EOF;
            sh->line = grown, sh->line_cap = (size_t)n + 1;
        }
        memcpy(sh->line, l, (size_t)n + 1);
    } else if (getline(&sh->line, &sh->line_cap, s->f) < 0) {
        return LINE_EOF;
    }
    size_t n = strlen(sh->line);
    while (n && (sh->line[n - 1] == '\n' || sh->line[n - 1] == '\r'))
        sh->line[--n] = 0;
    s->line++;
    *out = sh->line;
    return LINE_OK;
}

static int pending_append(shell *sh, const char *line)
{
    const size_t n = strlen(line);
    if (sh->plen + n + 2 > sh->pcap) {
        size_t cap = sh->pcap ? sh->pcap : 256;
        while (sh->plen + n + 2 > cap)
            cap *= 2;
        char *grown = realloc(sh->pending, cap);
        if (!grown)
            return -1;
        sh->pending = grown, sh->pcap = cap;
    }
    if (!sh->plen)
        sh->pending_line = sh->src[sh->depth - 1].line;
    memcpy(sh->pending + sh->plen, line, n);
    sh->plen += n;
    sh->pending[sh->plen++] = '\n';
    sh->pending[sh->plen] = 0;
    return 0;
}

static void pending_clear(shell *sh)
{
    sh->plen = 0;
    if (sh->pending)
        sh->pending[0] = 0;
}

/* ---- rank 0: dot-commands -------------------------------------------------------------------------------------- */

static const char *const MODE_NAMES[] = {"aligned", "table", "csv", "markdown", "line"};

static const char *HELP =
    ".help                  this text\n"
    ".tables                list the tables and views\n"
    ".schema [NAME]         show the CREATE statement of NAME (default: all)\n"
    ".mode [MODE]           how results print: aligned (default), table, csv, markdown, line\n"
    ".timer on|off          print each statement's run time (wall clock; CPU summed over the ranks)\n"
    ".read FILE             run the statements and dot-commands of FILE\n"
    ".quit, .exit           leave (so does Ctrl-D on an empty line)\n"
    "Statements end with ';' and may span lines. Ctrl-C cancels the running statement on every rank, or clears\n"
    "the line being typed. History: ~/.tessera_history (TESSERA_HISTORY overrides).\n";

static const char *sql_type(const ts_column *c, char *buf, size_t cap)
{
    switch (c->type) {
    case TS_T_BOOL: return "BOOLEAN";
    case TS_T_INT32: return "INTEGER";
    case TS_T_INT64: return "BIGINT";
    case TS_T_FLOAT64: return "DOUBLE";
    case TS_T_DATE: return "DATE";
    case TS_T_TIMESTAMP: return "TIMESTAMP";
    case TS_T_DECIMAL: snprintf(buf, cap, "DECIMAL(18,%d)", c->scale); return buf;
    default: return "VARCHAR";
    }
}

static ts_sql_object *objects(shell *sh, int *n)
{
    *n = ts_sql_session_objects(sh->session, NULL, 0);
    ts_sql_object *o = calloc((size_t)*n + 1, sizeof *o);
    if (o)
        ts_sql_session_objects(sh->session, o, *n);
    else
        *n = 0;
    return o;
}

/* sqlite3's layout: names in columns across an 80-character line. */
static void dot_tables(shell *sh, FILE *out)
{
    int n;
    ts_sql_object *o = objects(sh, &n);
    size_t w = 1;
    for (int i = 0; i < n; i++)
        w = strlen(o[i].name) > w ? strlen(o[i].name) : w;
    const int per_line = 80 / (int)(w + 2) > 0 ? 80 / (int)(w + 2) : 1;
    const int lines = (n + per_line - 1) / per_line;
    for (int l = 0; l < lines; l++) {
        for (int i = l; i < n; i += lines)
            fprintf(out, "%-*s", i + lines < n ? (int)w + 2 : 0, o[i].name);
        fputc('\n', out);
    }
    free(o);
}

static int dot_schema(shell *sh, const char *name, FILE *out)
{
    int n, shown = 0;
    ts_sql_object *o = objects(sh, &n);
    for (int i = 0; i < n; i++) {
        if (name && strcasecmp(name, o[i].name))
            continue;
        shown++;
        if (o[i].view_sql) {
            fprintf(out, "%s;\n", o[i].view_sql);
            continue;
        }
        fprintf(out, "CREATE TABLE %s(", o[i].name);
        char buf[32];
        for (int c = 0; c < o[i].table->ncols; c++)
            fprintf(out, "%s%s %s", c ? ", " : "", o[i].table->cols[c]->name, sql_type(o[i].table->cols[c], buf, sizeof buf));
        fprintf(out, ");  -- %lld row%s\n", (long long)o[i].rows, o[i].rows == 1 ? "" : "s");
    }
    free(o);
    if (name && !shown)
        fprintf(stderr, "Error: no table or view named '%s'\n", name);
    return shown || !name;
}

static int open_source(shell *sh, const char *path)
{
    if (sh->depth == MAX_DEPTH) {
        fprintf(stderr, "Error: .read nested more than %d deep\n", MAX_DEPTH);
        return 0;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "Error: cannot open \"%s\": %s\n", path, strerror(errno));
        return 0;
    }
    sh->src[sh->depth++] = (source){f, strdup(path), 0};
    return 1;
}

static void close_source(shell *sh)
{
    source *s = &sh->src[--sh->depth];
    if (s->f != stdin)
        fclose(s->f);
    free(s->name);
}

/* Runs a dot-command on rank 0. Returns CMD_QUIT to leave, 0 otherwise; a bad command counts as a failure. */
static int dot_command(shell *sh, const char *line, int *failed)
{
    char cmd[32] = "", arg[4096] = "", extra[8] = "";
    const int nargs = sscanf(line, ".%31s %4095s %7s", cmd, arg, extra);
    FILE *out = stdout;
    *failed = 0;
    if (!strcmp(cmd, "quit") || !strcmp(cmd, "exit") || !strcmp(cmd, "q"))
        return CMD_QUIT;
    if (!strcmp(cmd, "help")) {
        fputs(HELP, out);
    } else if (!strcmp(cmd, "tables") && nargs == 1) {
        dot_tables(sh, out);
    } else if (!strcmp(cmd, "schema") && nargs <= 2) {
        *failed = !dot_schema(sh, nargs == 2 ? arg : NULL, out);
    } else if (!strcmp(cmd, "timer") && nargs == 2 && (!strcmp(arg, "on") || !strcmp(arg, "off"))) {
        sh->timer = !strcmp(arg, "on");
    } else if (!strcmp(cmd, "mode") && nargs == 1) {
        fprintf(out, "current output mode: %s\n", MODE_NAMES[sh->mode]);
    } else if (!strcmp(cmd, "mode") && nargs == 2) {
        int m = 0;
        while (m < 5 && strcmp(arg, MODE_NAMES[m]))
            m++;
        if (m == 5) {
            fprintf(stderr, "Error: mode should be one of: aligned table csv markdown line\n");
            *failed = 1;
        } else {
            sh->mode = (ts_sql_print_mode)m;
            ts_sql_session_set_output(sh->session, NULL, sh->mode);
        }
    } else if (!strcmp(cmd, "read") && nargs == 2) {
        *failed = !open_source(sh, arg);
    } else {
        fprintf(stderr, "Error: unknown command or invalid arguments: \"%s\". Enter \".help\" for help\n",
                cmd);
        *failed = 1;
    }
    fflush(out);
    return 0;
}

/* ---- rank 0: the next command ---------------------------------------------------------------------------------- */

typedef struct command {
    int kind;        /* CMD_SQL or CMD_QUIT */
    int line;        /* first line of the statement in its source */
    char *text;      /* the statement (malloc'ed) */
    char *filename;  /* its source's name (malloc'ed) */
} command;

/* Takes the first complete statement out of sh->pending (or, at the end of the input, what is left). */
static int take_statement(shell *sh, command *c, int at_end)
{
    int blank;
    long end = scan_sql(sh->pending, sh->plen, &blank, NULL);
    if (end < 0 && !at_end)
        return 0;
    if (end < 0)
        end = (long)sh->plen;
    const int line = sh->pending_line;
    char *text = strndup(sh->pending, (size_t)end);
    int consumed_lines = 0;
    for (long i = 0; i < end; i++)
        consumed_lines += sh->pending[i] == '\n';
    memmove(sh->pending, sh->pending + end, sh->plen - (size_t)end + 1);
    sh->plen -= (size_t)end;
    sh->pending_line = line + consumed_lines;
    if (is_blank_sql(sh->pending, sh->plen))
        pending_clear(sh);
    if (!text || is_blank_sql(text, strlen(text))) {
        free(text);
        return 0;
    }
    if (sh->interactive && sh->depth == 1) {
        char *entry = malloc(strlen(text) + 2);
        if (entry) {
            scan_sql(text, strlen(text), &blank, entry);
            history_add(sh, entry);
            free(entry);
        }
    }
    /* typed statements count their own lines; those of a file or a pipe the source's */
    *c = (command){CMD_SQL, sh->interactive && sh->depth == 1 ? 1 : line, text, strdup(sh->src[sh->depth - 1].name)};
    return 1;
}

static void next_command(shell *sh, command *c)
{
    for (;;) {
        if (sh->opt->bail && sh->status && !sh->interactive) { /* --bail: stop after the first failure */
            c->kind = CMD_QUIT;
            return;
        }
        if (sh->plen && take_statement(sh, c, 0))
            return;
        const char *line;
        const line_status st = read_line(sh, &line);
        if (st == LINE_INTERRUPTED) { /* Ctrl-C at the prompt: drop what was typed */
            pending_clear(sh);
            fputc('\n', sh->tty_out ? sh->tty_out : stdout);
            continue;
        }
        if (st == LINE_EOF) {
            if (sh->plen && !is_blank_sql(sh->pending, sh->plen)) {
                if (sh->interactive && sh->depth == 1) {
                    pending_clear(sh); /* Ctrl-D in the middle of a statement: leave without running it */
                } else if (take_statement(sh, c, 1)) {
                    return;
                }
            }
            pending_clear(sh);
            if (sh->depth > 1) {
                close_source(sh);
                continue;
            }
            if (sh->interactive)
                fputc('\n', sh->tty_out);
            c->kind = CMD_QUIT;
            return;
        }
        if (!sh->plen && line[0] == '.') {
            if (sh->interactive && sh->depth == 1)
                history_add(sh, line);
            int failed;
            if (dot_command(sh, line, &failed) == CMD_QUIT) {
                c->kind = CMD_QUIT;
                return;
            }
            if (failed && !sh->interactive && !sh->status)
                sh->status = TS_ERR_USAGE;
            continue;
        }
        if (pending_append(sh, line) != 0) {
            fprintf(stderr, "Error: out of memory\n");
            pending_clear(sh);
        }
    }
}

/* ---- every rank: receiving and running commands ------------------------------------------------------------- */

/* Rank 0's command on every rank. Ranks other than 0 sleep between polls of the broadcast while rank 0 waits for
 * input. */
static ts_err share_command(shell *sh, command *c)
{
    ts_ctx *ctx = sh->ctx;
    int64_t head[5] = {0};
    if (ctx->rank == 0) {
        head[0] = c->kind, head[1] = c->line, head[2] = sh->timer;
        head[3] = c->text ? (int64_t)strlen(c->text) : 0, head[4] = c->filename ? (int64_t)strlen(c->filename) : 0;
    }
    MPI_Request req;
    TS_MPI(MPI_Ibcast(head, 5, MPI_INT64_T, 0, ctx->comm, &req));
    for (int done = 0, naps = 0;;) {
        TS_MPI(MPI_Test(&req, &done, MPI_STATUS_IGNORE));
        if (done)
            break;
        const struct timespec nap = {0, naps < 100 ? 100000 : 2000000}; /* 0.1 ms at first, then 2 ms */
        nanosleep(&nap, NULL);
        naps++;
    }
    if (ctx->rank != 0) {
        c->kind = (int)head[0], c->line = (int)head[1], sh->timer = (int)head[2];
        c->text = calloc((size_t)head[3] + 1, 1), c->filename = calloc((size_t)head[4] + 1, 1);
    }
    const int ok = c->kind == CMD_QUIT || (c->text && c->filename);
    TS_TRY(ts_ctx_check(ctx, ok ? TS_OK : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory")));
    if (c->kind == CMD_SQL) {
        TS_MPI(MPI_Bcast(c->text, (int)head[3], MPI_CHAR, 0, ctx->comm));
        TS_MPI(MPI_Bcast(c->filename, (int)head[4], MPI_CHAR, 0, ctx->comm));
    }
    return TS_OK;
}

static double cpu_seconds(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + 1e-6 * (double)u.ru_utime.tv_usec + (double)u.ru_stime.tv_sec +
           1e-6 * (double)u.ru_stime.tv_usec;
}

/* Runs one statement on every rank; its error is reported and the session goes on. Returns TS_ERR_MPI when the
 * ranks can no longer talk, else TS_OK. */
static ts_err run_command(shell *sh, const command *c)
{
    ts_ctx *ctx = sh->ctx;
    /* the statement at its line of the source, so that messages name the file's line */
    const size_t n = strlen(c->text), skip = c->line > 1 ? (size_t)c->line - 1 : 0;
    char *text = malloc(skip + n + 1);
    if (text) {
        memset(text, '\n', skip);
        memcpy(text + skip, c->text, n + 1);
    }
    const double t0 = ts_now(), cpu0 = cpu_seconds();
    ts_err err = text ? ts_sql_run(sh->session, text, c->filename)
                      : ts_error_raise(TS_ERR_NOMEM, __FILE__, __LINE__, __func__, "out of memory");
    free(text);
    err = ts_ctx_check(ctx, err); /* every statement error is already collective; this covers the allocation */
    const ts_err reset = ts_ctx_cancel_reset(ctx);
    if (err == TS_ERR_MPI || reset)
        return err ? err : reset;
    const double real = ts_now() - t0;
    if (err && ctx->rank == 0) {
        fflush(stdout);
        if (err == TS_ERR_CANCELLED)
            fputs("Cancelled: the statement was stopped on every rank; tables are as before it.\n", stderr);
        else
            ts_cli_print_error(err, sh->opt->debug);
        fflush(stderr);
    }
    if (sh->timer) {
        double cpu = cpu_seconds() - cpu0, total = 0;
        TS_MPI(MPI_Reduce(&cpu, &total, 1, MPI_DOUBLE, MPI_SUM, 0, ctx->comm));
        if (ctx->rank == 0)
            printf("Run Time (s): real %.3f cpu %.3f (%d rank%s)\n", real, total, ctx->size, ctx->size == 1 ? "" : "s");
    }
    if (err && !sh->status && !sh->interactive)
        sh->status = err;
    ts_error_clear();
    fflush(stdout);
    return TS_OK;
}

static void banner(shell *sh)
{
    fprintf(stdout, "Tessera %s SQL shell on %d rank%s. Enter \".help\" for usage hints.\n", TS_VERSION,
            sh->ctx->size, sh->ctx->size == 1 ? "" : "s");
    fflush(stdout);
}

int ts_sql_shell(ts_ctx *ctx, const ts_shell_options *opt)
{
    shell sh = {.ctx = ctx, .opt = opt, .mode = opt->sql.print_mode, .tty_fd = -1};
    ts_err err = ts_sql_session_new(ctx, &opt->sql, &sh.session);
    if (!err)
        err = ts_ctx_cancel_enable(ctx);
    if (err) {
        ts_sql_session_free(sh.session);
        if (ctx->rank == 0)
            ts_cli_print_error(err, opt->debug);
        return err;
    }
    if (ctx->rank == 0) {
        sh.src[sh.depth++] = (source){stdin, strdup("stdin"), 0};
        terminal_open(&sh);
        if (sh.interactive)
            banner(&sh);
    }
    int broken = 0;
    for (;;) {
        command c = {0};
        if (ctx->rank == 0)
            next_command(&sh, &c);
        err = share_command(&sh, &c);
        if (!err && c.kind == CMD_SQL)
            err = run_command(&sh, &c);
        free(c.text), free(c.filename);
        if (err) {
            broken = 1;
            break;
        }
        if (c.kind == CMD_QUIT)
            break;
    }
    if (!broken) {
        ts_ctx_cancel_disable(ctx);
        err = ts_sql_finish(sh.session);
        if (err && ctx->rank == 0)
            ts_cli_print_error(err, opt->debug);
        if (err && !sh.status)
            sh.status = err;
    } else {
        if (ctx->rank == 0)
            ts_cli_print_error(err, opt->debug);
        sh.status = err;
    }
    ts_sql_session_free(sh.session);
    if (ctx->rank == 0) {
        terminal_close(&sh);
        while (sh.depth)
            close_source(&sh);
        free(sh.pending), free(sh.line);
    }
    int status = sh.status;
    if (!broken)
        MPI_Bcast(&status, 1, MPI_INT, 0, ctx->comm);
    return status;
}
