/* SPDX-License-Identifier: Apache-2.0
 *
 * cli/cli.h - shared pieces of the tansiq command.
 *
 * The command is a client of the public API in include/tansiq/ only. Exit statuses: 0 success,
 * 1 the work was done but something was refused (invalid objects, a check that failed), 2 usage
 * errors, 3 operational failures (store, network, files).
 */
#ifndef TQ_CLI_H
#define TQ_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "tansiq/node.h"
#include "tansiq/runtime.h"
#include "tansiq/tansiq.h"

enum { CLI_OK = 0, CLI_REFUSED = 1, CLI_USAGE = 2, CLI_FAIL = 3 };

/* Options every command takes. */
struct cli_common {
    const char *home;
    bool json;
};

/* getopt_long ids for the common options, out of the range of short options. */
enum { OPT_HOME = 1000, OPT_JSON, OPT_HELP, OPT_FIRST_FREE };

#define CLI_COMMON_OPTIONS                                                                         \
    {"home", required_argument, NULL, OPT_HOME}, {"json", no_argument, NULL, OPT_JSON},            \
    {                                                                                              \
        "help", no_argument, NULL, OPT_HELP                                                        \
    }

/*
 * Handle a common option; returns true when c was one. Sets *help when --help was seen.
 */
bool cli_common_opt(int c, struct cli_common *common, bool *help);
void cli_common_defaults(struct cli_common *common);

/* Report a failure on stderr ("tansiq: <what>: <detail>") and map it to an exit status. */
int cli_fail(const char *what, tq_rc rc, const struct tq_err *err);
/* Open the node at common->home, reporting failure. */
int cli_open_node(const struct cli_common *common, struct tq_node **out);
/*
 * The id of a collection given by id or alias into id[37]; with allow_all, "*" (every
 * collection, present and future) is kept as it is. TQ_ENOTFOUND with a message otherwise.
 */
tq_rc cli_collection_id(struct tq_store *store, const char *name, bool allow_all, char id[37],
                        struct tq_err *err);
/* Print s as a JSON string literal to f. */
void cli_json_str(FILE *f, const char *s);
/* The whole file at path, or standard input for "-", into out (at most max bytes). */
tq_rc cli_read_input(const char *path, size_t max, struct tq_buf *out, struct tq_err *err);

int cmd_init(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_collection(int argc, char **argv);
int cmd_marking(int argc, char **argv);
int cmd_partner(int argc, char **argv);
int cmd_group(int argc, char **argv);
int cmd_collection_policy(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_identity(int argc, char **argv);
int cmd_sync(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_verify(int argc, char **argv);
#endif
