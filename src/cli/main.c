/*
 * cli/main.c - the `lift` command: dispatch to subcommands.
 */
#include <stdio.h>
#include <string.h>

#include <lift/lift.h>

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("lift %s\n", lift_version());
        return 0;
    }
    fprintf(stderr, "usage: lift <command> [options]\n");
    return 2;
}
