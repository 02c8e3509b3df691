/* Checkpoints of a SQL script (tessera sql SCRIPT --checkpoint DIR [--resume]): after every statement that changes
 * the catalog (CREATE TABLE, DROP, INSERT, COPY), the session's state goes to DIR/NN-<statement>.h5
 * (engine/exec/ts_checkpoint.h: complete or absent), so a run that died later resumes after the last statement
 * saved instead of from the start.
 *
 * A checkpoint holds the tables that changed since the previous one (catalog versions) and a `catalog` table that
 * lists every table alive after the statement: its name, the checkpoint file (statement number) holding its rows,
 * its key there, its rank in the output's creation order, its global rows and NOT NULL flags. So a table loaded by
 * statement 1 and read by the next ten is written once.
 *
 * Fingerprint of checkpoint k: the rank count, a hash of the text of statements 1..k (after ${name} substitution)
 * and every input file those statements bound (table functions report them: ts_sql_exec.on_input), by size, time
 * and sampled content (ts_fingerprint.h). Resume takes the last statement whose checkpoint matches, so editing a
 * statement after it (the usual fix of a failed run) keeps the work before. Scripts with views are refused (a view
 * is a syntax tree of its script, not data). Internal to sql/; collective unless marked. */
#ifndef TS_SQL_CHECKPOINT_H
#define TS_SQL_CHECKPOINT_H

#include "ts_ctx.h"
#include "ts_sql_ast.h"
#include "ts_sql_catalog.h"

typedef struct ts_sql_ckpt ts_sql_ckpt;

/* The session's names of created tables (its output file's tables), in creation order; owned by the session. */
typedef struct ts_sql_created {
    char ***names;
    int *n;
} ts_sql_created;

/* *out (free with ts_sql_ckpt_free) checkpoints into dir. Local. */
ts_err ts_sql_ckpt_new(const char *dir, int resume, ts_sql_ckpt **out);
void ts_sql_ckpt_free(ts_sql_ckpt *k);
/* The ts_sql_exec.on_input callback (arg: the ts_sql_ckpt). Local. */
void ts_sql_ckpt_note_input(void *arg, const char *path);
/* Before the script runs: refuses scripts with views; without --resume removes the checkpoints of an earlier run
 * of these statements; with it, restores the state after the last statement whose checkpoint matches and sets
 * *skip to the statements to skip (0: none matched or none existed). Rank 0 says what it did on stderr. */
ts_err ts_sql_ckpt_start(ts_sql_ckpt *k, ts_ctx *ctx, const ts_sql_script *script, ts_sql_catalog *cat,
                         ts_sql_created created, int *skip);
/* After statement i (0-based) of script ran: saves the state if the statement changed it. */
ts_err ts_sql_ckpt_after(ts_sql_ckpt *k, ts_ctx *ctx, const ts_sql_script *script, int i, ts_sql_catalog *cat,
                         ts_sql_created created);

#endif
