/*
 * store/registry.h - the SQLite connection under a struct lift_store.
 *
 * One connection per store, used under the store's mutex (opened with
 * SQLITE_OPEN_NOMUTEX: the store serialises every call). Statements are
 * prepared once and cached by their SQL text's address, so each call site
 * passes a string literal and pays for parsing only on first use.
 *
 * The schema is versioned with PRAGMA user_version and migrated forward
 * in one IMMEDIATE transaction per step, so two processes opening a fresh
 * data dir at once migrate it once. Every SQLite failure becomes a lift
 * error: CORRUPT for a damaged or foreign file, CONFLICT for a UNIQUE or
 * PRIMARY KEY violation, NOT_FOUND for a FOREIGN KEY violation (a row
 * naming a tenant or model that does not exist), UNAVAILABLE when another
 * process holds the write lock past the busy timeout, NOMEM, else IO.
 */
#ifndef LIFT_STORE_REGISTRY_H
#define LIFT_STORE_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include <lift/error.h>

#define REG_CACHE_MAX 96
#define REG_BUSY_MS 5000

struct reg_cached {
    const char *sql;
    sqlite3_stmt *st;
};

struct registry {
    sqlite3 *db;
    struct reg_cached cache[REG_CACHE_MAX];
    int n_cache;
};

/* The schema version this lift writes and reads. */
int reg_schema_version(void);

/* Opens (creating) the database at path: WAL, foreign keys, synchronous
 * FULL, busy timeout, PRAGMA quick_check, forward migrations. CORRUPT for
 * a file that fails the check or is not a database, UNSUPPORTED for a
 * schema newer than reg_schema_version(), IO otherwise. On failure *r is
 * left closed. */
enum lift_code reg_open(struct registry *r, const char *path,
                        struct lift_error *err);
/* Finalises every cached statement and closes the connection (which
 * checkpoints the WAL). Safe on a closed registry. */
void reg_close(struct registry *r);

/* The cached statement of `sql` (a string literal), reset with its
 * bindings cleared. */
enum lift_code reg_prepare(struct registry *r, const char *sql,
                           sqlite3_stmt **st, struct lift_error *err);
/* Binds parameters 1.. in order, one per character of fmt: 't' a const
 * char * (NULL binds NULL), 'i' an int64_t, 'b' a const void * and a
 * size_t, 'n' NULL (no argument). Texts and blobs are copied. */
enum lift_code reg_bind(struct registry *r, sqlite3_stmt *st,
                        struct lift_error *err, const char *fmt, ...);
/* One step: *row true when a row is ready, false when done. `what`
 * names the operation in the message ("insert dataset 'x'"). */
enum lift_code reg_step(struct registry *r, sqlite3_stmt *st, bool *row,
                        const char *what, struct lift_error *err);
/* Steps a statement that returns no rows to completion. */
enum lift_code reg_run(struct registry *r, sqlite3_stmt *st, const char *what,
                       struct lift_error *err);
/* Runs SQL text (one or more statements, no parameters, not cached). */
enum lift_code reg_exec(struct registry *r, const char *sql, const char *what,
                        struct lift_error *err);
/* Resets every cached statement, ending any read a caller left open. */
void reg_reset_all(struct registry *r);

/* BEGIN IMMEDIATE (the write lock up front: a deferred transaction that
 * upgrades can fail with SQLITE_BUSY without waiting), COMMIT, and a
 * ROLLBACK that is a no-op outside a transaction. */
enum lift_code reg_begin(struct registry *r, struct lift_error *err);
enum lift_code reg_commit(struct registry *r, struct lift_error *err);
void reg_rollback(struct registry *r);

/* Maps an SQLite result code to a lift error (see above). */
enum lift_code reg_error(struct registry *r, int rc, const char *what,
                         struct lift_error *err);

/* Text of column i, or NULL. Valid until the next step or reset. */
const char *reg_text(sqlite3_stmt *st, int i);
int64_t reg_int(sqlite3_stmt *st, int i);
bool reg_null(sqlite3_stmt *st, int i);

#endif
