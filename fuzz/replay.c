/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz/replay.c - a plain main() that feeds files to a libFuzzer target.
 *
 * `make test` links every fuzz target with this driver and replays its committed corpus, so
 * each input that once crashed stays a regression test without needing clang's libFuzzer.
 * Arguments are files or directories (read one level deep).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tansiq/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_INPUT (16u << 20)

static int replay_file(const char *path)
{
    struct tq_buf b;
    struct tq_err err;

    if (tq_file_read(path, REPLAY_MAX_INPUT, &b, &err)) {
        fprintf(stderr, "replay: %s\n", err.msg);
        return -1;
    }
    LLVMFuzzerTestOneInput((const uint8_t *)b.ptr, b.len);
    tq_buf_cleanup(&b);
    return 1;
}

int main(int argc, char **argv)
{
    long n = 0;

    for (int i = 1; i < argc; i++) {
        DIR *d = opendir(argv[i]);
        struct dirent *e;

        if (!d) {
            if (replay_file(argv[i]) < 0)
                return 1;
            n++;
            continue;
        }
        while ((e = readdir(d)) != NULL) {
            char path[4096];

            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
            if (replay_file(path) < 0) {
                closedir(d);
                return 1;
            }
            n++;
        }
        closedir(d);
    }
    printf("replayed %ld inputs\n", n);
    return 0;
}
