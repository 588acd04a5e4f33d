/* SPDX-License-Identifier: Apache-2.0
 *
 * cli/cmd_node.c - `tansiq init` and `tansiq serve`.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

int cmd_init(int argc, char **argv)
{
    enum { OPT_TITLE = OPT_FIRST_FREE, OPT_HOSTNAME, OPT_CERT, OPT_KEY };
    static const struct option longopts[] = {
        CLI_COMMON_OPTIONS,
        {"title", required_argument, NULL, OPT_TITLE},
        {"hostname", required_argument, NULL, OPT_HOSTNAME},
        {"cert", required_argument, NULL, OPT_CERT},
        {"key", required_argument, NULL, OPT_KEY},
        {NULL, 0, NULL, 0},
    };
    struct tq_node_init_opts opts = {0};
    struct cli_common common;
    struct tq_err err = {0};
    bool help = false;
    tq_rc rc;
    int c;

    cli_common_defaults(&common);
    for (c = getopt_long(argc, argv, "", longopts, NULL); c != -1;
         c = getopt_long(argc, argv, "", longopts, NULL)) {
        if (cli_common_opt(c, &common, &help))
            continue;
        switch (c) {
        case OPT_TITLE:
            opts.title = optarg;
            break;
        case OPT_HOSTNAME:
            opts.hostname = optarg;
            break;
        case OPT_CERT:
            opts.cert_pem = optarg;
            break;
        case OPT_KEY:
            opts.key_pem = optarg;
            break;
        default:
            return CLI_USAGE;
        }
    }
    if (help || optind != argc) {
        fprintf(help ? stdout : stderr,
                "usage: tansiq init [--home DIR] [--title TITLE] [--hostname NAME]\n"
                "                   [--cert CERT.pem --key KEY.pem]\n\n"
                "Create a node's home: configuration, SQLite store with the default collection\n"
                "'shared', a TLS certificate (self-signed for NAME, default localhost, unless\n"
                "--cert/--key are given) and the node's Ed25519 identity key.\n");
        return help ? CLI_OK : CLI_USAGE;
    }
    rc = tq_node_init(common.home, &opts, &err);
    if (rc)
        return cli_fail("init", rc, &err);
    if (common.json) {
        printf("{\"home\":");
        cli_json_str(stdout, common.home);
        printf("}\n");
    } else {
        printf("initialised a tansiq node in %s\n"
               "next: tansiq user add NAME --home %s, then tansiq serve --home %s\n",
               common.home, common.home, common.home);
    }
    return CLI_OK;
}

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Split ADDR:PORT (IPv6 in brackets) into cfg; the address string stays in arg. */
static bool parse_listen(char *arg, struct tq_server_config *cfg)
{
    char *colon = strrchr(arg, ':');
    char *end;
    long port;

    if (!colon || colon == arg)
        return false;
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    if (errno || *end || colon[1] == '\0' || port < 0 || port > 65535)
        return false;
    *colon = '\0';
    if (arg[0] == '[' && colon[-1] == ']') {
        colon[-1] = '\0';
        arg++;
    }
    cfg->listen_addr = arg;
    cfg->port = (uint16_t)port;
    return true;
}

int cmd_serve(int argc, char **argv)
{
    enum { OPT_LISTEN = OPT_FIRST_FREE, OPT_PLAIN, OPT_THREADS };
    static const struct option longopts[] = {
        CLI_COMMON_OPTIONS,
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"plain-http", no_argument, NULL, OPT_PLAIN},
        {"threads", required_argument, NULL, OPT_THREADS},
        {NULL, 0, NULL, 0},
    };
    struct cli_common common;
    struct tq_node_config cfg;
    struct tq_node *node = NULL;
    struct tq_node_runtime *rt = NULL;
    struct tq_err err = {0};
    char url[TQ_NODE_URL_MAX];
    struct sigaction sa;
    char *listen = NULL;
    bool help = false, plain = false;
    long threads = -1;
    char *end;
    int c, status;
    tq_rc rc;

    cli_common_defaults(&common);
    for (c = getopt_long(argc, argv, "", longopts, NULL); c != -1;
         c = getopt_long(argc, argv, "", longopts, NULL)) {
        if (cli_common_opt(c, &common, &help))
            continue;
        switch (c) {
        case OPT_LISTEN:
            listen = optarg;
            break;
        case OPT_PLAIN:
            plain = true;
            break;
        case OPT_THREADS:
            threads = strtol(optarg, &end, 10);
            if (*end || threads < 0 || threads > 256) {
                fprintf(stderr, "tansiq: --threads must be 0..256\n");
                return CLI_USAGE;
            }
            break;
        default:
            return CLI_USAGE;
        }
    }
    if (help || optind != argc) {
        fprintf(help ? stdout : stderr,
                "usage: tansiq serve [--home DIR] [--listen ADDR:PORT] [--plain-http]\n"
                "                    [--threads N]\n\n"
                "Serve TAXII 2.1 over HTTPS (the certificate in DIR/tls). --plain-http serves\n"
                "plain HTTP instead and is refused unless ADDR is a loopback address.\n"
                "Port 0 picks a free port; the chosen URL is printed on standard output.\n");
        return help ? CLI_OK : CLI_USAGE;
    }
    /* Before any key is read: a dump of this process would carry the TLS and identity keys. */
    tq_node_protect_process();
    status = cli_open_node(&common, &node);
    if (status)
        return status;
    rc = tq_node_config_load(node, &cfg, &err);
    if (rc) {
        status = cli_fail("configuration", rc, &err);
        goto out;
    }
    if (listen && !parse_listen(listen, &cfg.http)) {
        fprintf(stderr, "tansiq: --listen expects ADDR:PORT, got '%s'\n", listen);
        status = CLI_USAGE;
        goto out;
    }
    cfg.http.plain_http = plain;
    if (threads >= 0)
        cfg.http.threads = (unsigned)threads;
    rc = tq_node_runtime_start(node, &cfg, &rt, &err);
    if (rc) {
        fprintf(stderr, "tansiq: %s\n", err.msg[0] ? err.msg : tq_rc_str(rc));
        status = rc == TQ_EINVAL || rc == TQ_ECONFIG ? CLI_USAGE : CLI_FAIL;
        goto out;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* As soon as the server listens: with port 0 this is how the caller learns the port. */
    tq_node_runtime_url(rt, url);
    printf("%s\n", url);
    fflush(stdout);
    while (!stop_requested)
        pause();
    tq_log(TQ_LOG_INFO, "serve: stopping");
out:
    tq_node_runtime_stop(rt);
    tq_node_close(node);
    return status;
}
