/*
 * tests/fuzz/fuzz_request.c - the server's JSON request handling.
 *
 * The first input byte picks the route whose body the rest is:
 *   even  POST /v1/models/{name}:predict (predict_body), scored by a small
 *         model trained once from an in-memory table with numeric,
 *         categorical and text columns; the answer (or error) must be
 *         byte for byte that of predict_body_jansson, which never takes
 *         the fast path;
 *   odd   POST /v1/models (train_request_parse), the body parsed as the
 *         route does (JSON_REJECT_DUPLICATES) first.
 * Both are exactly what the routes run, without libmicrohttpd. Every
 * input must end in LIFT_OK or a coded error with a message: never a
 * crash, a leak or a read past the input.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "server/http.h"

static const char train_csv[] = "age,job,note,bal,y\n"
                                "31,admin.,likes email offers,100.5,yes\n"
                                "45,technician,,20,no\n"
                                "NA,services,call me later,-3,no\n"
                                "52,admin.,no calls please,7.25,yes\n"
                                "29,student,free trial,0,no\n"
                                "38,technician,email only,15,yes\n"
                                "61,retired,,300,no\n"
                                "24,student,text me,2,yes\n";

static struct lift_model *model(void)
{
    static struct lift_model *m;
    if (m)
        return m;
    struct lift_table *t;
    struct lift_train_opts *o;
    struct lift_error err;
    if (lift_table_read_mem(train_csv, sizeof train_csv - 1, NULL, &t, &err))
        abort();
    if (lift_train_opts_new(&o, &err) ||
        lift_train_opts_set(o, "target", "y", &err) ||
        lift_train_opts_set(o, "positive", "yes", &err) ||
        lift_train_opts_set(o, "text", "note", &err) ||
        lift_model_train(t, NULL, 0, o, &m, &err))
        abort();
    lift_train_opts_free(o);
    lift_table_free(t);
    return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    struct lift_error err;
    if ((data[0] & 1) == 0) {
        char *out = NULL;
        size_t out_len = 0;
        enum lift_code rc = predict_body(model(), "m", 1, body, len, 100, &out,
                                         &out_len, NULL, &err);
        if (rc == LIFT_OK && (!out || strlen(out) != out_len))
            abort();
        if (rc != LIFT_OK && (out || err.code != rc || !err.msg[0]))
            abort();
        /* the fast path must answer exactly as jansson's */
        char *ref = NULL;
        size_t ref_len = 0;
        struct lift_error ref_err;
        enum lift_code ref_rc = predict_body_jansson(
            model(), "m", 1, body, len, 100, &ref, &ref_len, &ref_err);
        if (ref_rc != rc ||
            (rc == LIFT_OK &&
             (ref_len != out_len || memcmp(ref, out, out_len) != 0)) ||
            (rc != LIFT_OK && strcmp(ref_err.msg, err.msg) != 0))
            abort();
        free(ref);
        free(out);
        return 0;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return 0;
    struct train_request tr;
    enum lift_code rc = train_request_parse(doc, &tr, &err);
    if (rc == LIFT_OK) {
        if (!tr.opts || !tr.params_json || !tr.name || !tr.target)
            abort();
        train_request_release(&tr);
    } else if (err.code != rc || !err.msg[0]) {
        abort();
    }
    json_decref(doc);
    return 0;
}
