/*
 * tests/fuzz/fuzz.h - the libFuzzer entry point every fuzz target defines.
 *
 * A target tests/fuzz/fuzz_<name>.c includes this header (so the
 * definition has a prototype under -Wmissing-prototypes) and defines
 * LLVMFuzzerTestOneInput. It must accept any bytes: return 0 for input it
 * rejects, never abort, leak or read past `size`. The same file is linked
 * with libFuzzer (fuzz_<name>, -Dfuzz=true with clang) and with
 * replay_main.c (replay_<name>, every build), which runs the corpus in
 * tests/fuzz/corpus/<name>/ as part of the ordinary test run.
 */
#ifndef LIFT_TESTS_FUZZ_H
#define LIFT_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
