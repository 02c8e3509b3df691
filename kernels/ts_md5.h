/* MD5 (RFC 1321) of a byte string, as the lower-case hex text SQL engines return from md5(): what dbt's
 * dbt_scd_id and generate_surrogate_key compute, so users can recompute those keys from Tessera's outputs.
 * Not for security. Pure function, thread-safe. */
#ifndef TS_MD5_H
#define TS_MD5_H

#include <stddef.h>
#include <stdint.h>

/* The 16-byte digest of p[0..len). */
void ts_md5(const void *p, size_t len, uint8_t digest[16]);

/* The digest as 32 lower-case hex digits and a NUL. */
void ts_md5_hex(const void *p, size_t len, char hex[33]);

#endif
