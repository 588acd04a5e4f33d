/* SPDX-License-Identifier: Apache-2.0
 *
 * core/util.c - UUIDs, whole-file I/O and libsodium's one-time initialisation.
 *
 * Random bytes come from getrandom(2); files that hold state are replaced atomically
 * (write to a temporary name, fsync, rename, fsync the directory).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "tansiq/core.h"

void tq_uuid4(char out[37])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char r[16];
    size_t got = 0;
    int o = 0;

    while (got < sizeof(r)) {
        ssize_t n = getrandom(r + got, sizeof(r) - got, 0);

        if (n > 0)
            got += (size_t)n;
    }
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[r[i] >> 4];
        out[o++] = hex[r[i] & 15];
    }
    out[o] = '\0';
}

bool tq_uuid_valid(struct tq_str s)
{
    if (s.len != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        char c = s.ptr[i];

        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return true;
}

tq_rc tq_file_read(const char *path, size_t max_bytes, struct tq_buf *out, struct tq_err *err)
{
    char chunk[65536];
    tq_rc rc = TQ_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return tq_err_set(err, errno == ENOENT ? TQ_ENOTFOUND : TQ_EIO, "cannot open %s: %s", path,
                          strerror(errno));
    tq_buf_init(out, max_bytes);
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = tq_err_set(err, TQ_EIO, "cannot read %s: %s", path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        if (tq_buf_append(out, chunk, (size_t)n)) {
            rc = tq_err_set(err, TQ_ETOOBIG, "%s is larger than %zu bytes", path, max_bytes);
            break;
        }
    }
    close(fd);
    if (rc)
        tq_buf_cleanup(out);
    else if (!out->ptr)
        tq_buf_append(out, "", 0);
    return rc;
}

tq_rc tq_file_read_text(const char *path, size_t max_bytes, char **out, struct tq_err *err)
{
    struct tq_buf b;
    tq_rc rc = tq_file_read(path, max_bytes, &b, err);

    if (rc)
        return rc;
    while (b.len && (b.ptr[b.len - 1] == '\n' || b.ptr[b.len - 1] == '\r' ||
                     b.ptr[b.len - 1] == ' ' || b.ptr[b.len - 1] == '\t'))
        b.ptr[--b.len] = '\0';
    *out = tq_buf_take(&b, NULL);
    if (!*out)
        *out = tq_xstrdup("");
    return TQ_OK;
}

tq_rc tq_file_write_atomic(const char *path, const void *data, size_t len, int mode,
                           struct tq_err *err)
{
    struct tq_buf tmp;
    char *dir = NULL;
    const char *p = data;
    tq_rc rc = TQ_OK;
    int fd, dfd;

    tq_buf_init(&tmp, 4096);
    if (tq_buf_printf(&tmp, "%s.tmp.%d", path, (int)getpid()))
        return tq_err_set(err, TQ_EINVAL, "path too long: %s", path);
    fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        rc = tq_err_set(err, TQ_EIO, "cannot create %s: %s", tmp.ptr, strerror(errno));
        goto out;
    }
    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = tq_err_set(err, TQ_EIO, "cannot write %s: %s", tmp.ptr, strerror(errno));
            break;
        }
        p += n;
        len -= (size_t)n;
    }
    if (!rc && fsync(fd) != 0)
        rc = tq_err_set(err, TQ_EIO, "cannot sync %s: %s", tmp.ptr, strerror(errno));
    close(fd);
    if (!rc && rename(tmp.ptr, path) != 0)
        rc = tq_err_set(err, TQ_EIO, "cannot rename to %s: %s", path, strerror(errno));
    if (rc) {
        unlink(tmp.ptr);
        goto out;
    }
    dir = tq_xstrdup(path);
    dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
out:
    tq_free(dir);
    tq_buf_cleanup(&tmp);
    return rc;
}

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_status;

static void do_sodium_init(void)
{
    sodium_status = sodium_init();
}

void tq_sodium_init(void)
{
    pthread_once(&sodium_once, do_sodium_init);
    if (sodium_status < 0) {
        tq_log(TQ_LOG_ERROR, "core: libsodium failed to initialise");
        abort();
    }
}
