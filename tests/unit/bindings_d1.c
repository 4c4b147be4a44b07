/* D1's C helpers (lib/bindings/d1.c): the VACUUM check the authorizer cannot make, the authorizer's decisions
 * for user SQL, and the SQLITE_<CODE> names D1 appends to messages. Behaviour from JavaScript is in
 * tests/js/d1_api.test.js; the commands in tests/e2e/test_d1.py. */
#include <criterion/criterion.h>

#include "bindings/internal.h"

Test(bindings_d1, vacuum_is_found_after_blanks_and_comments)
{
    cr_assert(ew__d1_is_vacuum("VACUUM"));
    cr_assert(ew__d1_is_vacuum("  vacuum INTO '/tmp/x'"));
    cr_assert(ew__d1_is_vacuum("-- note\n /* block */ ;Vacuum;"));
    cr_assert(!ew__d1_is_vacuum("SELECT 'VACUUM'"));
    cr_assert(!ew__d1_is_vacuum("vacuumed"));
    cr_assert(!ew__d1_is_vacuum("/* unterminated VACUUM"));
    cr_assert(!ew__d1_is_vacuum("-- VACUUM"));
}

Test(bindings_d1, the_authorizer_refuses_only_for_user_sql)
{
    int user = 1;
    cr_assert_eq(ew__d1_authorize(&user, SQLITE_TRANSACTION, "BEGIN", NULL, NULL, NULL), SQLITE_DENY);
    cr_assert_eq(ew__d1_authorize(&user, SQLITE_SAVEPOINT, "BEGIN", "a", NULL, NULL), SQLITE_DENY);
    cr_assert_eq(ew__d1_authorize(&user, SQLITE_ATTACH, "/tmp/x", NULL, NULL, NULL), SQLITE_DENY);
    cr_assert_eq(ew__d1_authorize(&user, SQLITE_PRAGMA, "journal_mode", "DELETE", NULL, NULL), SQLITE_DENY);
    cr_assert_eq(ew__d1_authorize(&user, SQLITE_PRAGMA, "TABLE_INFO", "t", NULL, NULL), SQLITE_OK);
    cr_assert_eq(ew__d1_authorize(&user, SQLITE_INSERT, "t", NULL, "main", NULL), SQLITE_OK);
    user = 0; /* the library's own statements (BEGIN IMMEDIATE, SAVEPOINT d1_batch) */
    cr_assert_eq(ew__d1_authorize(&user, SQLITE_TRANSACTION, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    cr_assert_eq(ew__d1_authorize(NULL, SQLITE_ATTACH, "x", NULL, NULL, NULL), SQLITE_OK);
}

Test(bindings_d1, code_names_follow_the_primary_result_code)
{
    cr_assert_str_eq(ew__d1_code_name(SQLITE_CONSTRAINT_UNIQUE), "SQLITE_CONSTRAINT");
    cr_assert_str_eq(ew__d1_code_name(SQLITE_ERROR), "SQLITE_ERROR");
    cr_assert_str_eq(ew__d1_code_name(SQLITE_AUTH), "SQLITE_AUTH");
    cr_assert_str_eq(ew__d1_code_name(SQLITE_IOERR_FSYNC), "SQLITE_IOERR");
}
