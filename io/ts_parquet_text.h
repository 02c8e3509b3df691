/* A Parquet file as CSV text, for the CSV-based cleaning scan (engine/ts_clean.h: rules, rejects with their raw
 * line, duplicate lines): jobs whose input directory holds *.parquet files read them through this, like gzip files
 * are inflated. Line 1 is the header (the column names); line k + 1 is row k. Values are written as their text:
 * integers, decimals with their scale, doubles in the shortest form that reads back, dates YYYY-MM-DD, timestamps
 * as DuckDB prints them (YYYY-MM-DD HH:MM:SS[.ffffff]), TIME as HH:MM:SS[.ffffff], booleans true/false, strings
 * as stored, quoted when they hold a comma, quote or line break; NULL is an empty field. Per rank, no MPI. */
#ifndef TS_PARQUET_TEXT_H
#define TS_PARQUET_TEXT_H

#include "ts_file.h"

/* Reads every row of f (a Parquet file) into out->heap as CSV text (out->data / out->len; free with
 * ts_file_unload). Errors name the file. */
ts_err ts_pq_load_csv(const ts_file_info *f, ts_file_data *out);

#endif
