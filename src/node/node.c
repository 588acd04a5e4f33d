/* SPDX-License-Identifier: Apache-2.0
 *
 * node/node.c - creating and opening a node's home directory.
 *
 * init is careful about secrets: the home and tls/ are mode 0700, private keys 0600, and
 * nothing secret is ever logged. A home counts as initialised once tansiq.conf exists; it is
 * written last, so an interrupted init can simply be run again.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "node/node.h"
#include "tansiq/alerts.h"
#include "tansiq/ingest.h"
#include "tansiq/policy.h"

#define DEFAULT_COLLECTION_ALIAS "shared"

static char *path_join(const char *dir, const char *name)
{
    struct tq_buf b;

    tq_buf_init(&b, TQ_NODE_PATH_MAX);
    if (tq_buf_printf(&b, "%s/%s", dir, name)) {
        tq_buf_cleanup(&b);
        return NULL;
    }
    return tq_buf_take(&b, NULL);
}

bool tq_node_exists(const char *dir)
{
    char *conf = path_join(dir, "tansiq.conf");
    bool ok = conf && access(conf, F_OK) == 0;

    tq_free(conf);
    return ok;
}

static tq_rc make_dir(const char *path, struct tq_err *err)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return tq_err_set(err, TQ_EIO, "cannot create %s: %s", path, strerror(errno));
    if (chmod(path, 0700) != 0)
        return tq_err_set(err, TQ_EIO, "cannot set the mode of %s: %s", path, strerror(errno));
    return TQ_OK;
}

static tq_rc copy_file(const char *from, const char *to, int mode, struct tq_err *err)
{
    struct tq_buf b;
    tq_rc rc = tq_file_read(from, 1u << 20, &b, err);

    if (rc)
        return rc;
    rc = tq_file_write_atomic(to, b.ptr, b.len, mode, err);
    sodium_memzero(b.ptr, b.len);
    tq_buf_cleanup(&b);
    return rc;
}

static tq_rc write_identity(const char *dir, struct tq_err *err)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    char b64[sodium_base64_ENCODED_LEN(crypto_sign_SECRETKEYBYTES, sodium_base64_VARIANT_ORIGINAL)];
    char *path = NULL;
    tq_rc rc;

    crypto_sign_keypair(pk, sk);
    sodium_bin2base64(b64, sizeof(b64), sk, sizeof(sk), sodium_base64_VARIANT_ORIGINAL);
    path = path_join(dir, "identity.key");
    rc = tq_file_write_atomic(path, b64, strlen(b64), 0600, err);
    sodium_memzero(sk, sizeof(sk));
    sodium_memzero(b64, sizeof(b64));
    tq_free(path);
    if (rc)
        return rc;
    sodium_bin2base64(b64, sizeof(b64), pk, sizeof(pk), sodium_base64_VARIANT_ORIGINAL);
    path = path_join(dir, "identity.pub");
    rc = tq_file_write_atomic(path, b64, strlen(b64), 0644, err);
    tq_free(path);
    return rc;
}

/*
 * The node's STIX identity and the extension-definition of its releasability markings (with
 * the fixed identity that creates it), stored in the default collection as objects this node
 * originated, so that partners can resolve created_by_ref and the extension. They live in a
 * collection of their own ("node"), released like any other once the operator sets its
 * audience. The node's identity is recorded as ours for the inbound checks.
 */
static tq_rc publish_identity(struct tq_store *store, const char *collection_id, const char *title,
                              struct tq_err *err)
{
    struct tq_stix_batch *batch = NULL;
    struct tq_stix_object objs[3];
    struct tq_buf text;
    char uuid[37], now[TQ_TIME_STR_MAX], identity_id[64];
    char *ext = NULL;
    size_t n = 0;
    tq_rc rc;

    tq_uuid4(uuid);
    snprintf(identity_id, sizeof(identity_id), "identity--%s", uuid);
    tq_time_format_ms(tq_time_now_us(), now);
    tq_buf_init(&text, 1u << 16);
    rc = tq_buf_printf(&text,
                       "[{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"%s\","
                       "\"created\":\"%s\",\"modified\":\"%s\",\"identity_class\":"
                       "\"organization\",\"name\":",
                       identity_id, now, now);
    if (!rc)
        rc = tq_buf_append_json_str(&text, title, strlen(title));
    if (!rc)
        rc = tq_policy_extension_definition_json(TQ_POLICY_EXTENSION_CREATOR, &ext, err);
    if (!rc)
        rc = tq_buf_printf(&text,
                           "},{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"%s\","
                           "\"created\":\"2026-01-01T00:00:00.000Z\","
                           "\"modified\":\"2026-01-01T00:00:00.000Z\","
                           "\"identity_class\":\"system\",\"name\":\"tansiq\"},%s]",
                           TQ_POLICY_EXTENSION_CREATOR, ext);
    if (!rc)
        rc = tq_stix_parse_batch((struct tq_str){text.ptr, text.len}, &batch, err);
    for (size_t i = 0; !rc && i < batch->n; i++) {
        if (!batch->items[i].ok)
            rc = tq_err_set(err, TQ_ESTIX, "the node's own object %zu is not valid STIX", i);
        else
            objs[n++] = batch->items[i].obj;
    }
    if (!rc)
        rc = tq_ingest_put(store, collection_id, objs, n, NULL, NULL, NULL, err);
    if (!rc)
        rc = tq_policy_identity_set(store, identity_id, NULL, err);
    if (!rc)
        rc = tq_store_meta_set(store, "node.identity", identity_id, err);
    tq_stix_batch_free(batch);
    tq_free(ext);
    tq_buf_cleanup(&text);
    return rc;
}

/* The meta key that binds a store to the identity of the home it belongs to. */
#define BOUND_KEY "node.identity_key"

/* The home's identity public key (base64) into key. */
static tq_rc home_key(const char *dir, char *key, size_t cap, struct tq_err *err)
{
    char *path = path_join(dir, "identity.pub");
    struct tq_buf b;
    tq_rc rc;

    if (!path)
        return tq_err_set(err, TQ_EINVAL, "home path too long");
    rc = tq_file_read(path, 4096, &b, err);
    if (rc == TQ_OK) {
        while (b.len && (b.ptr[b.len - 1] == '\n' || b.ptr[b.len - 1] == ' '))
            b.len--;
        if (b.len == 0 || b.len >= cap)
            rc = tq_err_set(err, TQ_ECONFIG, "%s is not an identity public key", path);
        else
            snprintf(key, cap, "%.*s", (int)b.len, b.ptr);
        tq_buf_cleanup(&b);
    } else {
        rc = tq_err_set(err, TQ_ECONFIG, "%s: the node's identity is missing", path);
    }
    tq_free(path);
    return rc;
}

/*
 * A store belongs to the home whose identity made it: init records the identity public key in
 * the store, and every open compares it, so that a store copied from (or swapped with) another
 * node is refused rather than served under this node's keys. A store made before the binding
 * existed is bound on its first open.
 */
static tq_rc store_bind(struct tq_store *store, const char *dir, struct tq_err *err)
{
    char key[256], *bound = NULL;
    tq_rc rc;

    rc = home_key(dir, key, sizeof(key), err);
    if (rc)
        return rc;
    rc = tq_store_meta_get(store, BOUND_KEY, &bound, err);
    if (rc == TQ_ENOTFOUND) {
        tq_log(TQ_LOG_INFO, "node: store bound to the identity of home=%s", dir);
        return tq_store_meta_set(store, BOUND_KEY, key, err);
    }
    if (rc == TQ_OK && strcmp(bound, key) != 0)
        rc = tq_err_set(err, TQ_ECONFIG,
                        "the store in %s belongs to another node (its identity key is %.12s..., "
                        "this home's is %.12s...): restore this node's own store",
                        dir, bound, key);
    tq_free(bound);
    return rc;
}

/*
 * The store a setting names: a URI ("postgresql://...", "sqlite:...") or an absolute path as it
 * is, a relative path inside the home. NULL when too long.
 */
static char *store_target(const char *dir, const char *setting)
{
    if (strstr(setting, "://") || setting[0] == '/' || strncmp(setting, "sqlite:", 7) == 0)
        return tq_xstrdup(setting);
    return path_join(dir, setting);
}

tq_rc tq_node_init(const char *dir, const struct tq_node_init_opts *opts, struct tq_err *err)
{
    struct tq_node_init_opts none = {0};
    struct tq_store *store = NULL;
    struct tq_collection col = {0};
    struct tq_collection about = {.alias = "node",
                                  .title = "About this node",
                                  .description = "This node's STIX identity and the "
                                                 "extension-definition of its releasability "
                                                 "markings"};
    struct tq_buf conf;
    char *tls_dir = NULL, *cert = NULL, *key = NULL, *db = NULL, *conf_path = NULL;
    tq_rc rc;

    if (!opts)
        opts = &none;
    if (sodium_init() < 0)
        return tq_err_set(err, TQ_ECONFIG, "libsodium failed to initialise");
    if (tq_node_exists(dir))
        return tq_err_set(err, TQ_EEXIST, "%s already holds a tansiq node", dir);
    if (!opts->cert_pem != !opts->key_pem)
        return tq_err_set(err, TQ_EINVAL, "--cert and --key must be given together");
    if (opts->store && (!*opts->store || strpbrk(opts->store, "\r\n")))
        return tq_err_set(err, TQ_EINVAL, "--store: expected a file or a postgresql:// URI");
    tq_buf_init(&conf, TQ_NODE_CONF_MAX);
    rc = make_dir(dir, err);
    if (rc)
        goto out;
    tls_dir = path_join(dir, "tls");
    cert = path_join(dir, "tls/cert.pem");
    key = path_join(dir, "tls/key.pem");
    db = store_target(dir, opts->store ? opts->store : "store.db");
    conf_path = path_join(dir, "tansiq.conf");
    if (!tls_dir || !cert || !key || !db || !conf_path) {
        rc = tq_err_set(err, TQ_EINVAL, "home path too long");
        goto out;
    }
    rc = make_dir(tls_dir, err);
    if (rc)
        goto out;
    if (opts->cert_pem) {
        rc = tq__node_tls_check(opts->cert_pem, opts->key_pem, err);
        if (!rc)
            rc = copy_file(opts->cert_pem, cert, 0644, err);
        if (!rc)
            rc = copy_file(opts->key_pem, key, 0600, err);
    } else {
        rc = tq__node_tls_selfsigned(opts->hostname ? opts->hostname : "localhost", cert, key, err);
    }
    if (rc)
        goto out;
    rc = write_identity(dir, err);
    if (rc)
        goto out;
    rc = tq_store_open(db, NULL, &store, err);
    if (!rc)
        rc = store_bind(store, dir, err);
    if (rc)
        goto out;
    tq_uuid4(col.id);
    col.alias = DEFAULT_COLLECTION_ALIAS;
    col.title = "Shared intelligence";
    col.description = "Intelligence this node shares with its partners";
    rc = tq_store_collection_add(store, &col, err);
    if (rc == TQ_EEXIST)
        rc = TQ_OK; /* an earlier, interrupted init got this far */
    if (rc)
        goto out;
    tq_uuid4(about.id);
    rc = tq_store_collection_add(store, &about, err);
    if (rc == TQ_EEXIST)
        rc = TQ_OK;
    if (!rc)
        rc = publish_identity(store, about.id, opts->title ? opts->title : "tansiq node", err);
    if (rc)
        goto out;
    rc = tq__node_config_sample(&conf);
    if (!rc && opts->title)
        rc = tq_buf_printf(&conf, "\ntitle = %s\n", opts->title);
    if (!rc && opts->store)
        rc = tq_buf_printf(&conf, "\nstore = %s\n", opts->store);
    if (rc) {
        rc = tq_err_set(err, rc, "configuration too large");
        goto out;
    }
    rc = tq_file_write_atomic(conf_path, conf.ptr, conf.len, 0600, err);
    if (!rc)
        tq_log(TQ_LOG_INFO, "node: initialised home=%s", dir);
out:
    tq_store_close(store);
    tq_buf_cleanup(&conf);
    tq_free(tls_dir);
    tq_free(cert);
    tq_free(key);
    tq_free(db);
    tq_free(conf_path);
    return rc;
}

/* Warn about a home or key file that others may read (init makes them 0700 / 0600). */
static void warn_if_exposed(const char *dir)
{
    static const char *const names[] = {"", "identity.key", "tls/key.pem", "tansiq.conf"};
    struct stat st;
    char *path;

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        path = names[i][0] ? path_join(dir, names[i]) : tq_xstrdup(dir);
        if (path && stat(path, &st) == 0 && (st.st_mode & 077))
            tq_log(TQ_LOG_WARN,
                   "node: %s is mode %o, readable by others on this machine (chmod %s it)", path,
                   (unsigned)(st.st_mode & 0777), S_ISDIR(st.st_mode) ? "0700" : "0600");
        tq_free(path);
    }
}

/* clang says __has_feature(address_sanitizer) where gcc defines __SANITIZE_ADDRESS__. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TQ_HAS_ASAN 1
#endif
#endif
#ifndef TQ_HAS_ASAN
#define TQ_HAS_ASAN 0
#endif

void tq_node_protect_process(void)
{
    struct rlimit none = {0, 0};

    if (setrlimit(RLIMIT_CORE, &none) != 0)
        tq_log(TQ_LOG_WARN, "node: cannot disable core dumps: %s", strerror(errno));
#if !defined(__SANITIZE_ADDRESS__) && !TQ_HAS_ASAN
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        tq_log(TQ_LOG_WARN, "node: cannot make the process non-dumpable: %s", strerror(errno));
#endif
}

tq_rc tq_node_open(const char *dir, struct tq_node **out, struct tq_err *err)
{
    return tq_node_open_ex(dir, NULL, out, err);
}

/* Every committed put into this node's store goes past its monitor. */
static void monitor_hook(void *ud, const struct tq_ingest_commit *c)
{
    struct tq_node *node = ud;

    if (c->store != node->store)
        return;
    tq_monitor_on_commit(node->monitor, c->collection_id, c->origin ? c->origin->partner : NULL,
                         c->objs, c->results, c->date_added_us, c->n);
}

static tq_rc monitor_start(struct tq_node *node, const struct tq_node_config *cfg,
                           struct tq_err *err)
{
    struct tq_monitor_options mo = {0};
    tq_rc rc;

    if (cfg->monitor.phone_region && *cfg->monitor.phone_region)
        mo.phone_region = cfg->monitor.phone_region;
    rc = tq_monitor_open(node->store, &mo, &node->monitor, err);
    if (rc == TQ_OK)
        rc = tq_ingest_hook_add(monitor_hook, node, err);
    if (rc) {
        tq_monitor_close(node->monitor);
        node->monitor = NULL;
    }
    return rc;
}

tq_rc tq_node_open_ex(const char *dir, const struct tq_node_open_opts *opts, struct tq_node **out,
                      struct tq_err *err)
{
    struct tq_store_options so = {.must_exist = true};
    struct tq_node_config cfg;
    struct tq_node *node;
    char *db;
    tq_rc rc;

    if (sodium_init() < 0)
        return tq_err_set(err, TQ_ECONFIG, "libsodium failed to initialise");
    if (!tq_node_exists(dir))
        return tq_err_set(err, TQ_ENOTFOUND, "%s is not a tansiq home (run 'tansiq init')", dir);
    warn_if_exposed(dir);
    node = tq_xcalloc(1, sizeof(*node));
    node->home = tq_xstrdup(dir);
    node->cert_path = path_join(dir, "tls/cert.pem");
    node->key_path = path_join(dir, "tls/key.pem");
    /* The store is a setting (store = ..., TANSIQ_STORE), read before the store is opened. */
    rc = tq_node_config_load(node, &cfg, err);
    if (rc) {
        tq_node_close(node);
        return rc;
    }
    so.read_only = opts && opts->read_only;
    so.pool_size = cfg.store.pool;
    so.statement_timeout_ms = cfg.store.statement_timeout_ms;
    so.lock_timeout_ms = cfg.store.lock_timeout_ms;
    db = store_target(dir, opts && opts->store ? opts->store : cfg.store.uri);
    rc = db ? tq_store_open(db, &so, &node->store, err)
            : tq_err_set(err, TQ_ECONFIG, "store: path too long");
    tq_free(db);
    if (rc == TQ_OK)
        rc = store_bind(node->store, dir, err);
    if (rc == TQ_OK)
        rc = monitor_start(node, &cfg, err);
    if (rc) {
        tq_node_close(node);
        return rc;
    }
    *out = node;
    return TQ_OK;
}

void tq_node_close(struct tq_node *node)
{
    if (!node)
        return;
    if (node->monitor) {
        tq_ingest_hook_remove(monitor_hook, node);
        tq_monitor_close(node->monitor);
    }
    tq_store_close(node->store);
    for (size_t i = 0; i < node->n_strings; i++)
        tq_free(node->strings[i]);
    tq_free(node->strings);
    tq_free(node->home);
    tq_free(node->cert_path);
    tq_free(node->key_path);
    tq_free(node);
}

struct tq_monitor *tq_node_monitor(struct tq_node *node)
{
    return node->monitor;
}

struct tq_store *tq_node_store(struct tq_node *node)
{
    return node->store;
}

const char *tq_node_home(const struct tq_node *node)
{
    return node->home;
}

void tq_node_tls_paths(const struct tq_node *node, const char **cert_path, const char **key_path)
{
    *cert_path = node->cert_path;
    *key_path = node->key_path;
}

tq_rc tq_node_config_load(struct tq_node *node, struct tq_node_config *cfg, struct tq_err *err)
{
    struct tq_buf text;
    char *conf_path = path_join(node->home, "tansiq.conf");
    tq_rc rc;

    tq__node_config_defaults(cfg);
    cfg->http.cert_pem_path = node->cert_path;
    cfg->http.key_pem_path = node->key_path;
    rc = tq_file_read(conf_path, TQ_NODE_CONF_MAX, &text, err);
    if (!rc) {
        rc = tq__node_config_apply(node, text.ptr, conf_path, cfg, err);
        tq_buf_cleanup(&text);
    }
    tq_free(conf_path);
    if (!rc)
        rc = tq__node_config_env(node, cfg, err);
    return rc;
}

tq_rc tq_node_server_config(struct tq_node *node, struct tq_server_config *cfg, struct tq_err *err)
{
    struct tq_node_config all;
    tq_rc rc = tq_node_config_load(node, &all, err);

    if (rc)
        return rc;
    *cfg = all.http;
    cfg->sync_interval_s = all.sync.interval_s;
    cfg->log_origin = all.audit.log_origin;
    return TQ_OK;
}
