/*
 * tests/fuzz/fuzz_marketing.c - the request bodies of POST /v1/uplift,
 * /v1/segments and /v1/rfm.
 *
 * The first input byte picks the route (its value mod 3: uplift,
 * segments, RFM) and whether a parsed request is then checked against a
 * small in-memory table (bit 2); the rest is the body. mkt_job_parse is
 * exactly what the route runs on its body, and mkt_job_check exactly
 * what it runs on the dataset's table before it queues the job (the
 * library's checks, which stop before any fitting), without
 * libmicrohttpd. Every input must end in LIFT_OK with a whole request, or
 * in a coded error with a message and nothing returned: never a crash, a
 * leak or a read past the input.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "server/marketing.h"

/* Columns for each route: transactions (customer, date, amount), an
 * experiment (arm, y) and features (x, c). */
static const char table_csv[] = "customer,date,amount,arm,y,x,c\n"
                                "a,2008-01-02,5,ctrl,0,1.5,red\n"
                                "b,2008-02-03,7.25,mail,1,2,blue\n"
                                "a,2008-03-04,,ctrl,1,NA,red\n"
                                "c,2008-01-30,12,mail,0,-3,green\n"
                                "d,,4,ctrl,0,0,blue\n"
                                "b,2008-02-28,1,mail,1,8,red\n"
                                "e,2008-03-01,9,ctrl,1,2.5,green\n"
                                "c,2008-03-15,3,mail,0,1,blue\n"
                                "f,2008-02-11,6,ctrl,0,4,red\n"
                                "g,2008-01-21,2,mail,1,7,green\n"
                                "h,2008-03-09,8,ctrl,1,5,blue\n"
                                "i,2008-02-17,10,mail,0,6,red\n";

static struct lift_table *table(void)
{
    static struct lift_table *t;
    struct lift_error err;
    if (!t &&
        lift_table_read_mem(table_csv, sizeof table_csv - 1, NULL, &t, &err))
        abort();
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    enum mkt_kind kind = (enum mkt_kind)(data[0] % 3);
    bool check = (data[0] & 4) != 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    struct lift_error err;
    struct mkt_job *mj = (struct mkt_job *)&err; /* must become NULL */
    enum lift_code rc = mkt_job_parse(kind, body, len, &mj, &err);
    if (rc != LIFT_OK) {
        if (mj || err.code != rc || !err.msg[0])
            abort();
        return 0;
    }
    if (!mj || mj->kind != kind || !mj->opts || !mj->params_json ||
        !lift_store_name_ok(mj->dataset))
        abort();
    if (check) {
        rc = mkt_job_check(mj, table(), &err);
        if (rc != LIFT_OK && (err.code != rc || !err.msg[0]))
            abort();
        /* a check's errors are the request's: never a parse or an
         * invalid-argument code (the routes answer those as 422) */
        if (rc == LIFT_ERR_PARSE || rc == LIFT_ERR_INVALID)
            abort();
    }
    mkt_job_free(mj);
    return 0;
}
