/* server/d1.h — `ew-server d1 execute` and `ew-server d1 migrations apply` (d1.c). */
#ifndef EW_SERVER_D1_H
#define EW_SERVER_D1_H

/* Runs `ew-server d1 ...` (argv[1] is "d1"); returns the exit code. */
int d1_main(int argc, char **argv);

#endif
