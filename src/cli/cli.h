/* SPDX-License-Identifier: Apache-2.0
 *
 * cli/cli.h - shared pieces of the tansiq command.
 *
 * The command is a client of the public API in include/tansiq/ only. Exit statuses: 0 success,
 * 1 the work was done but something was refused (invalid objects, a check that failed), 2 usage
 * errors, 3 operational failures (store, network, files).
 *
 * Commands are declared, not parsed by hand: each family (`partner`, `log`, `serve`, ...) is a
 * struct cli_family whose table of struct cli_cmd gives, for each subcommand, its synopsis, its
 * options, how many operands it takes, its help and its handler. One parser (args.c) reads the
 * command line against that table, as curl's tool_getparam does, and hands the handler a
 * struct cli_ctx; docs/internals/cli.md has the rules.
 */
#ifndef TQ_CLI_H
#define TQ_CLI_H

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

/* An option of one subcommand: --NAME, or --NAME VALUE / --NAME=VALUE when it takes a value. */
struct cli_opt {
    const char *name;
    bool value; /* takes a value */
};

#define CLI_MAX_HITS 256 /* options on one command line */

/* What the parser hands a handler. */
struct cli_ctx {
    const struct cli_family *family;
    const struct cli_cmd *cmd;
    struct cli_common common;
    int argc;    /* operands after the command (and subcommand) words */
    char **argv; /* argv[0] is the first operand */
    struct {
        const char *name; /* the option's declared name */
        const char *value;
    } hits[CLI_MAX_HITS]; /* every option given but the common ones, in order */
    size_t n_hits;
    struct tq_node *node; /* opened before the handler runs when cmd->flags has CLI_NODE */
};

enum {
    CLI_NODE = 1u << 0, /* open the node at --home before the handler, close it after */
};

struct cli_cmd {
    const char *name;           /* the subcommand word; NULL in a family of one command */
    const char *synopsis;       /* after "tansiq "; a line starting with a space continues */
    const struct cli_opt *opts; /* ends with {NULL}; --home, --json, --help are implied */
    int min_args, max_args;     /* operands; max_args -1: any number */
    unsigned flags;             /* CLI_NODE */
    const char *help;           /* its own help after the synopsis; NULL: the family's */
    const char *misuse;         /* printed before the usage on a usage error, or NULL */
    int (*run)(struct cli_ctx *c);
};

struct cli_family {
    const char *name;
    const char *summary; /* its line in `tansiq --help` */
    const char *help;    /* after the synopses of every subcommand in `tansiq NAME --help` */
    const struct cli_cmd *cmds;
    size_t n_cmds;
};

#define CLI_N(a) (sizeof(a) / sizeof((a)[0]))
#define CLI_STR_(x) #x
#define CLI_STR(x) CLI_STR_(x)

/*
 * Parse argv (argv[0] is the family's name) against family and run the handler it names. Prints
 * help on --help (exit 0) and usage on a usage error (exit 2); otherwise returns the handler's
 * status.
 */
int cli_run(const struct cli_family *family, int argc, char **argv);

/* The value of option name (the last one given), "" for a flag, NULL when not given. */
const char *cli_opt(const struct cli_ctx *c, const char *name);
/* True when option name was given. */
bool cli_has(const struct cli_ctx *c, const char *name);
/* Print the usage of c's command to stderr (with its misuse line) and return CLI_USAGE. */
int cli_usage(const struct cli_ctx *c);

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
/* n bytes as lower-case hex to f. */
void cli_print_hex(FILE *f, const uint8_t *b, size_t n);

/* The command families, one file each (cmd_<family>.c; init and serve in cmd_node.c, import,
 * export and validate in cmd_data.c). */
extern const struct cli_family cli_init, cli_serve, cli_import, cli_export, cli_validate, cli_user,
    cli_collection, cli_partner, cli_group, cli_explain, cli_marking, cli_identity, cli_sync,
    cli_log, cli_store, cli_verify, cli_geo, cli_events, cli_incidents, cli_hotspots, cli_correlate,
    cli_alert, cli_watchlist, cli_psi;
extern const struct cli_family cli_screen;

#endif
