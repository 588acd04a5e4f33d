/* SPDX-License-Identifier: Apache-2.0
 *
 * cli/cmd_user.c - `tansiq user ...`: users, passwords, API tokens and permissions.
 *
 * Passwords are read from standard input (--password-stdin) or typed at a terminal with echo
 * off, never taken from the command line where other users could see them in ps(1). Tokens
 * are shown once and stored only as their SHA-256.
 */
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/cli.h"

#define PASSWORD_MAX 1024

static bool read_line(FILE *f, char *buf, size_t size)
{
    size_t n;

    if (!fgets(buf, (int)size, f))
        return false;
    n = strlen(buf);
    if (n && buf[n - 1] == '\n')
        buf[--n] = '\0';
    if (n && buf[n - 1] == '\r')
        buf[--n] = '\0';
    return true;
}

static bool read_password(bool from_stdin, char *buf, size_t size)
{
    struct termios old, quiet;
    char again[PASSWORD_MAX];
    bool ok;

    if (from_stdin || !isatty(STDIN_FILENO))
        return read_line(stdin, buf, size) && buf[0];
    tcgetattr(STDIN_FILENO, &old);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    fprintf(stderr, "password: ");
    ok = read_line(stdin, buf, size);
    fprintf(stderr, "\nagain: ");
    ok = ok && read_line(stdin, again, sizeof(again));
    fprintf(stderr, "\n");
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    ok = ok && buf[0] && strcmp(buf, again) == 0;
    sodium_memzero(again, sizeof(again));
    if (!ok)
        fprintf(stderr, "tansiq: the passwords are empty or do not match\n");
    return ok;
}

static tq_rc user_must_exist(struct tq_store *store, const char *name, struct tq_err *err)
{
    char *hash = NULL;
    tq_rc rc = tq_store_user_get(store, name, &hash, err);

    if (hash)
        sodium_memzero(hash, strlen(hash));
    tq_free(hash);
    if (rc == TQ_ENOTFOUND)
        rc = tq_err_set(err, rc, "no user named '%s'", name);
    return rc;
}

static tq_rc grant(struct tq_store *store, const char *user, const char *coll, bool r, bool w,
                   struct tq_err *err)
{
    char id[37];
    bool had_r = false, had_w = false;
    tq_rc rc = cli_collection_id(store, coll, true, id, err);

    if (!rc)
        rc = tq_store_perm_get(store, user, id, &had_r, &had_w, err);
    if (!rc)
        rc = tq_store_perm_set(store, user, id, had_r || r, had_w || w, err);
    return rc;
}

static int user_list(struct tq_store *store, bool json)
{
    char **names = NULL;
    size_t n = 0;
    struct tq_err err = {0};
    tq_rc rc = tq_store_user_list(store, &names, &n, &err);

    if (rc)
        return cli_fail("user list", rc, &err);
    if (json)
        printf("[");
    for (size_t i = 0; i < n; i++) {
        if (json) {
            printf("%s", i ? "," : "");
            cli_json_str(stdout, names[i]);
        } else {
            printf("%s\n", names[i]);
        }
        tq_free(names[i]);
    }
    if (json)
        printf("]\n");
    tq_free(names);
    return CLI_OK;
}

static int run_add(struct cli_ctx *c)
{
    struct tq_store *store = tq_node_store(c->node);
    const char *name = c->argv[0];
    char password[PASSWORD_MAX];
    struct tq_err err = {0};
    char *hash = NULL;
    tq_rc rc;

    if (!read_password(cli_has(c, "password-stdin"), password, sizeof(password))) {
        fprintf(stderr, "tansiq: no password given\n");
        return CLI_USAGE;
    }
    rc = tq_auth_password_hash(password, &hash, &err);
    sodium_memzero(password, sizeof(password));
    if (!rc)
        rc = tq_store_user_put(store, name, hash, &err);
    tq_free(hash);
    /* Each --read and --write, in the order given. */
    for (size_t i = 0; !rc && i < c->n_hits; i++) {
        bool r = strcmp(c->hits[i].name, "read") == 0;
        bool w = strcmp(c->hits[i].name, "write") == 0;

        if (r || w)
            rc = grant(store, name, c->hits[i].value, r, w, &err);
    }
    if (rc)
        return cli_fail("add", rc, &err);
    if (!c->common.json)
        printf("user %s saved\n", name);
    return CLI_OK;
}

static int run_grant(struct cli_ctx *c)
{
    struct tq_store *store = tq_node_store(c->node);
    const char *name = c->argv[0], *coll = c->argv[1];
    bool r = cli_has(c, "read"), w = cli_has(c, "write"), revoke = cli_has(c, "revoke");
    struct tq_err err = {0};
    char id[37];
    tq_rc rc;

    if (!r && !w && !revoke)
        r = true;
    rc = user_must_exist(store, name, &err);
    if (!rc && revoke) {
        rc = cli_collection_id(store, coll, true, id, &err);
        if (!rc)
            rc = tq_store_perm_set(store, name, id, false, false, &err);
    } else if (!rc) {
        rc = grant(store, name, coll, r, w, &err);
    }
    return rc ? cli_fail("grant", rc, &err) : CLI_OK;
}

static int run_token(struct cli_ctx *c)
{
    struct tq_store *store = tq_node_store(c->node);
    const char *name = c->argv[0], *label = cli_opt(c, "label");
    struct tq_err err = {0};
    char *token = NULL;
    uint8_t hash[32];
    tq_rc rc;

    rc = user_must_exist(store, name, &err);
    if (!rc)
        rc = tq_auth_token_new(&token, hash, &err);
    if (!rc)
        rc = tq_store_token_add(store, name, hash, label ? label : "", &err);
    if (!rc)
        printf("%s\n", token);
    if (token)
        sodium_memzero(token, strlen(token));
    tq_free(token);
    return rc ? cli_fail("token", rc, &err) : CLI_OK;
}

static int run_remove(struct cli_ctx *c)
{
    struct tq_err err = {0};
    tq_rc rc = tq_store_user_delete(tq_node_store(c->node), c->argv[0], &err);

    return rc ? cli_fail("remove", rc, &err) : CLI_OK;
}

static int run_list(struct cli_ctx *c)
{
    return user_list(tq_node_store(c->node), c->common.json);
}

static const struct cli_opt add_opts[] = {
    {"password-stdin", false}, {"read", true}, {"write", true}, {NULL, false}};
static const struct cli_opt grant_opts[] = {
    {"read", false}, {"write", false}, {"revoke", false}, {NULL, false}};
static const struct cli_opt token_opts[] = {{"label", true}, {NULL, false}};

static const struct cli_cmd user_cmds[] = {
    {"add", "user add NAME [--password-stdin] [--read COLL]... [--write COLL]...", add_opts, 1, 1,
     CLI_NODE, NULL,
     "user add takes one NAME (collections are given as --read COLL and --write "
     "COLL)",
     run_add},
    {"grant", "user grant NAME COLL [--read] [--write] [--revoke]", grant_opts, 2, 2, CLI_NODE,
     NULL, NULL, run_grant},
    {"token", "user token NAME [--label TEXT]", token_opts, 1, 1, CLI_NODE, NULL, NULL, run_token},
    {"remove", "user remove NAME", NULL, 1, 1, CLI_NODE, NULL, NULL, run_remove},
    {"list", "user list [--json]", NULL, 0, 0, CLI_NODE, NULL, NULL, run_list},
};

const struct cli_family cli_user = {
    .name = "user",
    .summary = "manage users, passwords, API tokens and permissions",
    .help =
        "Users authenticate with HTTP Basic (password, stored as an Argon2id hash) or with a\n"
        "bearer API token (shown once, stored hashed). COLL is a collection id or alias, or '*'\n"
        "for every collection. Every command takes --home DIR.\n",
    .cmds = user_cmds,
    .n_cmds = CLI_N(user_cmds),
};
