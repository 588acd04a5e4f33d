/* SPDX-License-Identifier: Apache-2.0
 *
 * cli/args.c - the one parser of the tansiq command line.
 *
 * A family's table (struct cli_family) declares each subcommand once: synopsis, options,
 * operands, help and handler. This file finds the subcommand, builds getopt_long's option array
 * from the declaration (so --NAME VALUE and --NAME=VALUE both work for an option that takes a
 * value, and options may come before, between or after the operands), checks the operands,
 * prints help and usage from the same declaration, opens the node when the command asks for it,
 * and runs the handler.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define MAX_OPTS 32 /* options of one subcommand, the common ones included */

enum { ID_HOME = 1000, ID_JSON, ID_HELP, ID_FIRST };

static void print_synopsis(FILE *f, const struct cli_cmd *cmd, bool *first)
{
    const char *line = cmd->synopsis;

    while (*line) {
        const char *nl = strchr(line, '\n');
        int len = nl ? (int)(nl - line) : (int)strlen(line);

        if (line[0] == ' ')
            fprintf(f, "%.*s\n", len, line);
        else
            fprintf(f, "%s%.*s\n", *first ? "usage: tansiq " : "       tansiq ", len, line);
        *first = false;
        line += len + (nl ? 1 : 0);
    }
}

/* The family's usage: every subcommand's synopsis, then the family's help. */
static void family_usage(FILE *f, const struct cli_family *fam)
{
    bool first = true;

    for (size_t i = 0; i < fam->n_cmds; i++)
        print_synopsis(f, &fam->cmds[i], &first);
    fprintf(f, "\n%s", fam->help);
}

/* A subcommand's usage: its synopsis and its own help, or the family's usage without one. */
static void cmd_usage(FILE *f, const struct cli_family *fam, const struct cli_cmd *cmd)
{
    bool first = true;

    if (!cmd->help) {
        family_usage(f, fam);
        return;
    }
    print_synopsis(f, cmd, &first);
    fprintf(f, "\n%s", cmd->help);
}

int cli_usage(const struct cli_ctx *c)
{
    if (c->cmd->misuse)
        fprintf(stderr, "tansiq: %s\n\n", c->cmd->misuse);
    cmd_usage(stderr, c->family, c->cmd);
    return CLI_USAGE;
}

/* True when --name (without "=VALUE") takes a value in some subcommand of fam, or is --home. */
static bool takes_value(const struct cli_family *fam, const char *arg)
{
    if (strchr(arg, '='))
        return false;
    if (strcmp(arg + 2, "home") == 0)
        return true;
    for (size_t i = 0; i < fam->n_cmds; i++)
        for (const struct cli_opt *o = fam->cmds[i].opts; o && o->name; o++)
            if (o->value && strcmp(arg + 2, o->name) == 0)
                return true;
    return false;
}

/* The first operand of argv (skipping options and their values), or NULL. */
static const char *first_operand(const struct cli_family *fam, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return i + 1 < argc ? argv[i + 1] : NULL;
        if (argv[i][0] != '-' || argv[i][1] == '\0')
            return argv[i];
        if (argv[i][1] == '-' && takes_value(fam, argv[i]))
            i++;
    }
    return NULL;
}

static bool help_asked(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--help") == 0)
            return true;
    return false;
}

/* The subcommand argv names; NULL after reporting (*status set) when there is none. */
static const struct cli_cmd *find_cmd(const struct cli_family *fam, int argc, char **argv,
                                      int *status)
{
    const char *word;

    if (fam->n_cmds == 1 && !fam->cmds[0].name)
        return &fam->cmds[0];
    word = first_operand(fam, argc, argv);
    for (size_t i = 0; word && i < fam->n_cmds; i++)
        if (strcmp(word, fam->cmds[i].name) == 0)
            return &fam->cmds[i];
    if (help_asked(argc, argv)) {
        family_usage(stdout, fam);
        *status = CLI_OK;
        return NULL;
    }
    if (word)
        fprintf(stderr, "tansiq: %s: unknown subcommand '%s'\n\n", fam->name, word);
    family_usage(stderr, fam);
    *status = CLI_USAGE;
    return NULL;
}

/* getopt_long's array for cmd: the common options, then cmd's, ids from ID_FIRST. */
static size_t build_longopts(const struct cli_cmd *cmd, struct option *lo)
{
    size_t n = 0;

    lo[n++] = (struct option){"home", required_argument, NULL, ID_HOME};
    lo[n++] = (struct option){"json", no_argument, NULL, ID_JSON};
    lo[n++] = (struct option){"help", no_argument, NULL, ID_HELP};
    for (size_t i = 0; cmd->opts && cmd->opts[i].name && n < MAX_OPTS; i++)
        lo[n++] =
            (struct option){cmd->opts[i].name, cmd->opts[i].value ? required_argument : no_argument,
                            NULL, ID_FIRST + (int)i};
    lo[n] = (struct option){NULL, 0, NULL, 0};
    return n;
}

/* Read the options into c; CLI_OK, or CLI_USAGE after getopt's message. Sets *help. */
static int read_options(struct cli_ctx *c, int argc, char **argv, bool *help)
{
    struct option lo[MAX_OPTS + 1];
    int id;

    build_longopts(c->cmd, lo);
    optind = 0; /* glibc: start afresh */
    for (id = getopt_long(argc, argv, "", lo, NULL); id != -1;
         id = getopt_long(argc, argv, "", lo, NULL)) {
        if (id == ID_HOME) {
            c->common.home = optarg;
        } else if (id == ID_JSON) {
            c->common.json = true;
        } else if (id == ID_HELP) {
            *help = true;
        } else if (id >= ID_FIRST && c->n_hits < CLI_MAX_HITS) {
            c->hits[c->n_hits].name = c->cmd->opts[id - ID_FIRST].name;
            c->hits[c->n_hits++].value = optarg ? optarg : "";
        } else {
            if (id >= ID_FIRST)
                fprintf(stderr, "tansiq: at most %d options\n", CLI_MAX_HITS);
            return CLI_USAGE; /* getopt_long has said what was wrong */
        }
    }
    return CLI_OK;
}

int cli_run(const struct cli_family *family, int argc, char **argv)
{
    struct cli_ctx *c;
    const char *env = getenv("TANSIQ_HOME");
    bool help = false;
    int status = CLI_OK;

    /* The context is large (every option given), so it lives on the heap. */
    c = tq_xcalloc(1, sizeof(*c));
    c->family = family;
    c->common.home = env && *env ? env : "./tansiq-home";
    c->cmd = find_cmd(family, argc, argv, &status);
    if (!c->cmd)
        goto out;
    status = read_options(c, argc, argv, &help);
    if (status)
        goto out;
    if (help) {
        cmd_usage(stdout, family, c->cmd);
        goto out;
    }
    c->argc = argc - optind;
    c->argv = argv + optind;
    if (c->cmd->name) { /* the subcommand word is the first operand */
        if (c->argc == 0 || strcmp(c->argv[0], c->cmd->name) != 0) {
            status = cli_usage(c);
            goto out;
        }
        c->argc--;
        c->argv++;
    }
    if (c->argc < c->cmd->min_args || (c->cmd->max_args >= 0 && c->argc > c->cmd->max_args)) {
        status = cli_usage(c);
        goto out;
    }
    if (c->cmd->flags & CLI_NODE) {
        status = cli_open_node(&c->common, &c->node);
        if (status)
            goto out;
    }
    status = c->cmd->run(c);
    tq_node_close(c->node);
out:
    tq_free(c);
    return status;
}

const char *cli_opt(const struct cli_ctx *c, const char *name)
{
    const char *v = NULL;

    for (size_t i = 0; i < c->n_hits; i++)
        if (strcmp(c->hits[i].name, name) == 0)
            v = c->hits[i].value;
    return v;
}

bool cli_has(const struct cli_ctx *c, const char *name)
{
    return cli_opt(c, name) != NULL;
}
