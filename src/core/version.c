/*
 * core/version.c - the library version string (from meson's project()).
 */
#include <lift/lift.h>

#ifndef LIFT_VERSION
#define LIFT_VERSION "0.1.0"
#endif

const char *lift_version(void)
{
    return LIFT_VERSION;
}
