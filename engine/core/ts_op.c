#include "ts_op.h"

#include <stdio.h>
#include <stdlib.h>

ts_err ts_op_alloc(size_t size, const ts_op_vt *vt, const char *label, ts_op **out)
{
    ts_op *op = calloc(1, size < sizeof *op ? sizeof *op : size);
    if (!op)
        TS_FAIL(TS_ERR_NOMEM, "out of memory for operator '%s'", vt->kind);
    op->vt = vt, op->tag = -1;
    snprintf(op->label, sizeof op->label, "%s", label ? label : vt->kind);
    *out = op;
    return TS_OK;
}

void ts_op_free(ts_op *op)
{
    if (!op)
        return;
    if (op->vt->destroy)
        op->vt->destroy(op);
    ts_chunk_free(op->out);
    free(op);
}
