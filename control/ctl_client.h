/* txgatectl's side of txgate's control socket (docs/control.md). */
#ifndef CTL_CLIENT_H
#define CTL_CLIENT_H

#include <stdio.h>

#include <jansson.h>

/* Send {"id":1,"v":1,"cmd":cmd,"args":args} to the socket at path (args is
 * stolen; NULL: none), wait for the answer line and print its result: as
 * JSON with json_out, else for people. Returns 0 (ok), 1 (an error
 * answer, printed on err) or 2 (cannot connect, no or bad answer). */
int ctl_client_call(const char *path, const char *cmd, json_t *args, int json_out, FILE *out, FILE *err);

#endif
