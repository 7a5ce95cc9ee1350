/*
 * tests/fuzz/fuzz_model.c - libFuzzer target for the .lift model reader.
 *
 * The input is a model file. A checksum guards the body, so most random
 * mutations stop at the checksum; to let the fuzzer reach the parser, an
 * input whose first byte is '!' is taken as a body without its trailer:
 * the target seals it with the xxh64 the reader expects. Either way,
 * lift_model_from_bytes must return a code and never crash.
 *
 * A model that loads is used as a caller would: the accessors, then a
 * score and an explanation of an empty record (every input absent) and of
 * a record with a number, a string, a boolean and a null for its first
 * inputs plus an unknown field, then a round trip through
 * lift_model_to_bytes, which must load again. A broken invariant traps.
 *
 * Corpus (tests/fuzz/corpus/model/): real models trained with
 * SOURCE_DATE_EPOCH=0 by `lift train tests/data/tiny_learn.csv` - dict.lift
 * (--target y --positive yes --text note --cross job,city --missing
 * job=unknown), hash.lift (the same with --index hash --bits 16), iso.lift
 * (--text note --calibration isotonic --bins 4), platt.lift (--calibration
 * platt --min-count 3 --max-features 6), reg.lift (--target score --task
 * regression --drop y --text note), multi.lift (--target job --model
 * softmax --drop y --text note), text*.lift (text settings stored:
 * --text note; text-fr with --lang fr --stem --stop-words --token-classes
 * --ngrams 3 --char-ngrams 1,3 --min-count 1; text-mlp --model mlp);
 * sealed-* are '!' + their bodies (whole or cut to two thirds), trunc-*
 * plain truncated copies.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lift/model.h>

#include "core/hash.h"
#include "fuzz.h"

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            __builtin_trap();                                                  \
    } while (0)

#define MAX_FIELDS 8

static void score(const struct lift_model *m, const struct lift_field *f,
                  size_t n)
{
    size_t no = lift_model_n_outputs(m), ni = lift_model_n_inputs(m);
    double *out = malloc(no * sizeof *out);
    struct lift_contribution *con = malloc((ni + 64) * sizeof *con);
    if (!out || !con)
        goto done;
    struct lift_record_report rep;
    struct lift_error err;
    if (lift_model_predict_record(m, f, n, false, out, &rep, &err) == LIFT_OK) {
        CHECK(rep.n_absent <= ni);
        CHECK(rep.n_unknown <= n);
    }
    size_t nc = 0;
    double base, raw, sc;
    (void)lift_model_explain_record(m, f, n, 0, con, &nc, &base, &raw, &sc,
                                    &rep, &err);
    (void)lift_model_explain_record(m, f, n, no, con, &nc, &base, &raw, &sc,
                                    &rep, &err);
done:
    free(out);
    free(con);
}

static void use(const struct lift_model *m)
{
    size_t no = lift_model_n_outputs(m), ni = lift_model_n_inputs(m);
    CHECK(no >= 1);
    CHECK(lift_model_kind(m) != NULL);
    CHECK(lift_model_target(m) != NULL);
    CHECK(lift_model_info_json(m) != NULL);
    CHECK(lift_task_name(lift_model_task(m)) != NULL);
    (void)lift_model_n_features(m);
    for (size_t k = 0; k < no; k++)
        (void)lift_model_class(m, k);
    for (size_t i = 0; i < ni; i++)
        CHECK(lift_model_input_name(m, i) != NULL);

    score(m, NULL, 0);

    struct lift_field f[MAX_FIELDS];
    size_t n = 0;
    for (size_t i = 0; i < ni && n < 4; i++, n++) {
        f[n].name = lift_model_input_name(m, i);
        switch (i % 4) {
        case 0:
            f[n].kind = LIFT_VALUE_NUMBER;
            f[n].num = 1.5;
            f[n].str = NULL;
            f[n].len = 0;
            break;
        case 1:
            f[n].kind = LIFT_VALUE_STRING;
            f[n].num = 0;
            f[n].str = "yes, a word";
            f[n].len = 11;
            break;
        case 2:
            f[n].kind = LIFT_VALUE_BOOL;
            f[n].num = 1;
            f[n].str = NULL;
            f[n].len = 0;
            break;
        default:
            f[n].kind = LIFT_VALUE_NULL;
            f[n].num = 0;
            f[n].str = NULL;
            f[n].len = 0;
        }
    }
    f[n].name = "not-an-input";
    f[n].kind = LIFT_VALUE_STRING;
    f[n].num = 0;
    f[n].str = "x";
    f[n].len = 1;
    n++;
    score(m, f, n);

    struct lift_contribution *imp = malloc((ni + 64) * sizeof *imp);
    if (imp) {
        (void)lift_model_importance(m, imp);
        free(imp);
    }

    void *data = NULL;
    size_t len = 0;
    if (lift_model_to_bytes(m, &data, &len, NULL) == LIFT_OK) {
        struct lift_model *again = NULL;
        CHECK(lift_model_from_bytes(data, len, &again, NULL) == LIFT_OK);
        lift_model_free(again);
        free(data);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = NULL;
    const uint8_t *in = data;
    size_t len = size;
    if (size >= 1 && data[0] == '!') {
        /* a body to seal: data[1..] plus the checksum trailer */
        len = size - 1 + 8;
        copy = malloc(len);
        if (!copy)
            return 0;
        memcpy(copy, data + 1, size - 1);
        uint64_t sum = lift_xxh64(copy, size - 1, 0);
        for (int i = 0; i < 8; i++)
            copy[size - 1 + (size_t)i] = (uint8_t)(sum >> (8 * i));
        in = copy;
    } else if (size) {
        /* an exact-size heap copy, so any overread is caught */
        copy = malloc(size);
        if (!copy)
            return 0;
        memcpy(copy, data, size);
        in = copy;
    }
    struct lift_model *m = NULL;
    struct lift_error err;
    enum lift_code rc = lift_model_from_bytes(in, len, &m, &err);
    if (rc == LIFT_OK) {
        CHECK(m != NULL);
        use(m);
        lift_model_free(m);
    } else {
        CHECK(m == NULL);
        CHECK(err.code == rc);
        CHECK(err.msg[0] != '\0');
    }
    free(copy);
    return 0;
}
