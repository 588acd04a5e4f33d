/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/psi.h - private set intersection between two partners' name lists.
 *
 * Diffie-Hellman PSI over ristretto255 (libsodium): each side blinds the hashes of its keys
 * with a fresh secret scalar, the other side blinds them again, and equal doubly-blinded
 * points mean equal keys. Each side learns which of its own entries the other side also
 * holds (or, in cardinality mode, only how many) and the size of the other list; nothing
 * else. The library does the protocol, the crypto and the message format; the transport,
 * the partner checks and the audit leaf belong to the caller. docs/internals/psi.md has the
 * protocol, the message layout and the security argument.
 *
 * One run, requester A and responder B, three messages:
 *
 *   A: tq_psi_request(entries)            -> REQUEST   (A's blinded keys)
 *   B: tq_psi_respond(REQUEST, entries)   -> RESPONSE  (A's keys blinded again, B's blinded)
 *   A: tq_psi_finish(RESPONSE, &result)   -> FINAL     (B's keys blinded again)
 *   B: tq_psi_conclude(FINAL, &result)
 *
 * A session is used for one run and then freed; its scalar is wiped as soon as its last
 * multiplication is done. Sessions are not thread-safe; one session may use up to
 * limits.threads threads inside a call.
 */
#ifndef TANSIQ_PSI_H
#define TANSIQ_PSI_H

#include <stddef.h>
#include <stdint.h>

#include "tansiq/core.h"

#define TQ_PSI_VERSION 1
#define TQ_PSI_POINT_BYTES 32
#define TQ_PSI_SESSION_ID_BYTES 16
#define TQ_PSI_HEADER_BYTES 36
#define TQ_PSI_MAX_KEYS_PER_ENTRY 16       /* the largest padded group */
#define TQ_PSI_DEFAULT_MAX_ENTRIES 1000000 /* entries in one list */
#define TQ_PSI_DEFAULT_MAX_POINTS 4000000  /* points in one list of one message */
#define TQ_PSI_DEFAULT_MAX_KEY_BYTES 1024  /* bytes in one key */

/*
 * The bounds of a run between two nodes (tansiq/psi_node.h, the /psi/v1/ routes): a list of
 * at most TQ_PSI_NET_MAX_ENTRIES entries and TQ_PSI_NET_MAX_POINTS points in one list of a
 * message (every entry padded to 16 keys fits), so a REQUEST or FINAL body is at most
 * TQ_PSI_NET_BODY_MAX bytes (32 MB) and a RESPONSE, with two lists, at most twice that.
 */
#define TQ_PSI_NET_MAX_ENTRIES 62500
#define TQ_PSI_NET_MAX_POINTS 1000000
#define TQ_PSI_NET_BODY_MAX                                                                        \
    (TQ_PSI_HEADER_BYTES + TQ_PSI_POINT_BYTES * (size_t)TQ_PSI_NET_MAX_POINTS)

enum tq_psi_role {
    TQ_PSI_REQUESTER = 1,
    TQ_PSI_RESPONDER = 2,
};

enum tq_psi_mode {
    TQ_PSI_MODE_MATCHES = 1,     /* each side learns which of its own entries are shared */
    TQ_PSI_MODE_CARDINALITY = 2, /* each side learns only how many of its entries are shared */
};

enum tq_psi_msg_type {
    TQ_PSI_MSG_REQUEST = 1,
    TQ_PSI_MSG_RESPONSE = 2,
    TQ_PSI_MSG_FINAL = 3,
};

/* Bounds on what a session sends and accepts; zero fields take the defaults above. */
struct tq_psi_limits {
    size_t max_entries;   /* entries in one's own list and declared by the peer */
    size_t max_points;    /* points in one list of a message */
    size_t max_key_bytes; /* bytes in one key */
    unsigned threads;     /* threads for the scalar multiplications; 0 means 2 */
};

/* One entry of a list: its comparison keys (opaque, non-empty byte strings). */
struct tq_psi_entry {
    const struct tq_str *keys;
    size_t n_keys;
};

/*
 * A parsed message. Points point into the parsed input (borrowed for its life); points_a is
 * the first list (REQUEST: A's blinded keys; RESPONSE: those blinded again by B; FINAL: B's
 * keys blinded again by A), points_b the second (RESPONSE only: B's blinded keys).
 */
struct tq_psi_message {
    enum tq_psi_msg_type type;
    enum tq_psi_mode mode;
    unsigned keys_per_entry; /* 0: one point per distinct key; K: every entry padded to K */
    uint8_t session_id[TQ_PSI_SESSION_ID_BYTES];
    uint32_t n_entries; /* the sender's list size (REQUEST and RESPONSE; 0 in FINAL) */
    uint32_t n_points_a;
    uint32_t n_points_b;
    const uint8_t *points_a; /* n_points_a * 32 bytes */
    const uint8_t *points_b; /* n_points_b * 32 bytes */
};

/* What one side learns from a run. */
struct tq_psi_result {
    enum tq_psi_mode mode;
    uint8_t session_id[TQ_PSI_SESSION_ID_BYTES];
    size_t own_entries;  /* size of one's own list */
    size_t peer_entries; /* size of the peer's list, as the peer declared it */
    size_t peer_points;  /* points the peer sent for its list */
    size_t count;        /* own entries that the peer also holds */
    size_t *matched;     /* MATCHES mode: their indices, ascending (count of them); else NULL */
};

struct tq_psi_session;

/*
 * Parse and check one message: the header (magic, version, type, mode, keys per entry,
 * counts within limits and consistent with the length), then every point (a canonical
 * ristretto255 encoding, not the identity, no point twice in one list). limits may be NULL
 * for the defaults. On TQ_OK *out points into in. TQ_EINVAL for any malformed message,
 * TQ_ETOOBIG for counts over a limit; err says which check failed.
 */
tq_rc tq_psi_message_parse(struct tq_str in, const struct tq_psi_limits *limits,
                           struct tq_psi_message *out, struct tq_err *err);

/*
 * A new session for one run in the given role, with a fresh random scalar (limits may be
 * NULL for the defaults; they are copied). Free with tq_psi_session_free, which wipes every
 * secret the session still holds.
 */
struct tq_psi_session *tq_psi_session_new(enum tq_psi_role role,
                                          const struct tq_psi_limits *limits);
void tq_psi_session_free(struct tq_psi_session *s); /* NULL is a no-op */
/* The session id (random, chosen by the requester; the responder's after tq_psi_respond). */
void tq_psi_session_id(const struct tq_psi_session *s, uint8_t out[TQ_PSI_SESSION_ID_BYTES]);

/*
 * Requester, step 1: pick a session id, blind own entries (borrowed for the call; the session
 * keeps what it needs) and append the REQUEST to out. keys_per_entry is 0 (one point per
 * distinct key, so the peer learns the number of distinct keys) or K in 1..16 (every entry
 * sends exactly K points, padded with random points, so the peer learns only the entry
 * count); cardinality mode needs K >= 1. A key held by several entries is sent once; with K
 * it counts for the first entry that holds it. TQ_EINVAL for a bad argument, an empty key or
 * a call out of order, TQ_ETOOBIG for a list, a key or an entry over a limit (an entry with
 * more distinct keys than K).
 */
tq_rc tq_psi_request(struct tq_psi_session *s, enum tq_psi_mode mode, unsigned keys_per_entry,
                     const struct tq_psi_entry *entries, size_t n_entries, struct tq_buf *out,
                     struct tq_err *err);

/*
 * Responder: parse a REQUEST (any refusal as tq_psi_message_parse), blind own entries with
 * the request's mode and keys per entry, and append the RESPONSE to out. The caller decides
 * beforehand, from tq_psi_message_parse, whether it answers that mode and size at all.
 */
tq_rc tq_psi_respond(struct tq_psi_session *s, struct tq_str request,
                     const struct tq_psi_entry *entries, size_t n_entries, struct tq_buf *out,
                     struct tq_err *err);

/*
 * Requester, step 2: parse the RESPONSE (refused unless it carries this session's id, mode,
 * keys per entry and exactly as many points as were sent), fill *result (clean up with
 * tq_psi_result_cleanup) and append the FINAL message for the responder to out.
 */
tq_rc tq_psi_finish(struct tq_psi_session *s, struct tq_str response, struct tq_psi_result *result,
                    struct tq_buf *out, struct tq_err *err);

/* Responder, last step: parse the FINAL message (checked as above) and fill *result. */
tq_rc tq_psi_conclude(struct tq_psi_session *s, struct tq_str final, struct tq_psi_result *result,
                      struct tq_err *err);

void tq_psi_result_cleanup(struct tq_psi_result *r); /* frees matched; NULL is a no-op */

#endif
