/* server/tools.h — `ew-server check` and `ew-server build` (tools.c). */
#ifndef EW_SERVER_TOOLS_H
#define EW_SERVER_TOOLS_H

/* Runs the command argv[1] ("check" or "build"); returns the exit code. */
int tools_main(int argc, char **argv);

#endif
