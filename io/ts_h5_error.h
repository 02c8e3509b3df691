/* HDF5 failures as Tessera errors: the HDF5 error stack folded into one line ("API call: innermost error
 * (major, minor)") appended to the caller's message. Shared by the table writer and reader. Per rank. */
#ifndef TS_H5_ERROR_H
#define TS_H5_ERROR_H

#include "ts_error.h"

/* Raises TS_ERR_IO with "<fmt...>: <HDF5 reason>" and clears the HDF5 error stack. */
ts_err ts_h5_fail(const char *file, int line, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
