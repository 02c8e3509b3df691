/* MD5: the RFC 1321 test suite (appendix A.5), lengths around the 55/56/64-byte padding boundaries checked
 * against Python's hashlib (values computed once and pasted), and a 1 MB input. */
#include <stdlib.h>

#include "ts_md5.h"
#include "ts_test.h"

static void check_hex(const char *in, size_t len, const char *want)
{
    char got[33];
    ts_md5_hex(in, len, got);
    CHECK(strcmp(got, want) == 0, "md5 of %zu bytes: %s, expected %s", len, got, want);
}

int main(void)
{
    /* RFC 1321, A.5 */
    check_hex("", 0, "d41d8cd98f00b204e9800998ecf8427e");
    check_hex("a", 1, "0cc175b9c0f1b6a831c399e269772661");
    check_hex("abc", 3, "900150983cd24fb0d6963f7d28e17f72");
    check_hex("message digest", 14, "f96b697d7cb7938d525a2f31aaf161d0");
    check_hex("abcdefghijklmnopqrstuvwxyz", 26, "c3fcd3d76192e4007dfb496cca67e13b");
    check_hex("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 62,
              "d174ab98d277d9f5a5611c2c9f419d9f");
    check_hex("12345678901234567890123456789012345678901234567890123456789012345678901234567890", 80,
              "57edf4a22be3c955ac49da2e2107b67a");
    /* dbt_scd_id of customer 42 snapshotted on 2026-02-01: md5('42|2026-02-01') */
    check_hex("42|2026-02-01", 13, "a24b3319d3da53e3501a142afe743301");
    /* padding boundaries: 55 bytes fit one final block, 56 to 63 need two (values from hashlib.md5(b"x" * n)) */
    char x[200];
    memset(x, 'x', sizeof x);
    check_hex(x, 55, "04364420e25c512fd958a70738aa8f72");
    check_hex(x, 56, "668a72d5ba17f08e62dabcafad6db14b");
    check_hex(x, 63, "7dc2ca208106a2f703567bdff99d8981");
    check_hex(x, 64, "c1bb4f81d892b2d57947682aeb252456");
    check_hex(x, 65, "1bc932052302d074bdec39795fe00cf6");
    check_hex(x, 119, "ab347a5f68c8a443cfcddc633f12c24f");
    check_hex(x, 120, "fb98667f98096de92620b64f46e1c5b5");
    check_hex(x, 128, "d69cb61a6ee87200676eb0d4b90edbcb");
    /* one million 'a' (a classic test vector) */
    char *big = malloc(1000000);
    if (big) {
        memset(big, 'a', 1000000);
        check_hex(big, 1000000, "7707d6ae4e027c70eea2a935c2296f21");
        free(big);
    }
    return TS_TEST_DONE("test_md5");
}
