/* SPDX-License-Identifier: Apache-2.0
 *
 * screen/watchlist_int.h - what the watchlist readers (watchlist_un.c, watchlist_csv.c,
 * watchlist_stix.c) share: building an entry value by value within its limits.
 */
#ifndef TQ_SCREEN_WATCHLIST_INT_H
#define TQ_SCREEN_WATCHLIST_INT_H

#include "tansiq/watchlist.h"

/* The limits of one read with every default filled in. */
void tq__watch_limits(const struct tq_watchlist_limits *in, struct tq_watchlist_limits *out);

/*
 * Add a name to e, cleaned (tq_watch_name_clean); an empty name is skipped and one the entry
 * has already (the same bytes) is not added twice. TQ_EINVAL for invalid UTF-8, TQ_ETOOBIG for a
 * name over TQ_WATCH_NAME_MAX or an entry over TQ_WATCH_NAMES_MAX names.
 */
tq_rc tq__watch_add_name(struct tq_watch_entry *e, struct tq_str name,
                         enum tq_watch_quality quality);
/*
 * Add the names one alias field of a list holds (docs/internals/watchlist.md, "Aliases that hold
 * several names"): "X (Y; Z)" is X, Y and Z; "X (original script: Y)" is X and Y, original;
 * "A; B" is A and B; an annotation in parentheses ("(birth name)", "(KPE.018)") is dropped; a
 * group at the start or in the middle is part of the name ("(Sheikh) Musa Hilal", "Leader (Hong
 * Kong) Trading"). Anything else is one name, as tq__watch_add_name takes it.
 */
tq_rc tq__watch_add_alias(struct tq_watch_entry *e, struct tq_str text,
                          enum tq_watch_quality quality);
/* Add a nationality (with its ISO code when known); empty ones and repeats are skipped. */
tq_rc tq__watch_add_nationality(struct tq_watch_entry *e, struct tq_str name);
/* Add a date of birth; repeats are skipped. TQ_ETOOBIG over TQ_WATCH_VALUES_MAX. */
tq_rc tq__watch_add_dob(struct tq_watch_entry *e, const struct tq_watch_dob *d);

/* A vector of entries being read. */
struct tq__watch_vec {
    struct tq_watch_entry *v;
    size_t n, cap, max;
};

/* Move *e (cleared) to the end of vec; TQ_ETOOBIG past vec->max. */
tq_rc tq__watch_vec_take(struct tq__watch_vec *vec, struct tq_watch_entry *e);

#endif
