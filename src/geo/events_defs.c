/* SPDX-License-Identifier: Apache-2.0
 *
 * geo/events_defs.c - the node's STIX extension-definitions and the identity that wrote them.
 *
 * Fixed bytes, the same on every node, so that two nodes importing the same event file store
 * the same objects and a partner can check an extension against its schema without asking.
 * Each "schema" member holds the extension's JSON Schema as text (docs/internals/events.md
 * prints the same schemas readably); changing any byte here means a new version of the
 * definition with a new modified time, never an edit in place. The text is kept in pieces
 * because C11 promises string literals of 4,095 bytes only; they are joined once.
 */
#include <pthread.h>
#include <string.h>

#include "tansiq/events.h"

static const char *const parts[] = {
    "[{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"identity--5a0c7e1b-3d2f-4b6a-8"
    "c9e-1f2a3b4c5d6e\",\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":\"2026-01-01T00"
    ":00:00.000Z\",\"identity_class\":\"system\",\"name\":\"tansiq\"},{\"type\":\"extension-d"
    "efinition\",\"spec_version\":\"2.1\",\"id\":\"extension-definition--f1fc3882-b2d1-4d3a-b"
    "4a8-12bad3930960\",\"created_by_ref\":\"identity--5a0c7e1b-3d2f-4b6a-8c9e-1f2a3b4c5d6e\""
    ",\"created\":\"2025-01-01T00:00:00.000Z\",\"modified\":\"2025-01-01T00:00:00.000Z\",\"na"
    "me\":\"tansiq incident\",\"description\":\"Location, time, kind and toll of an incident "
    "(property-extension of incident, sighting and observed-data).\",\"schema\":\"{\\\"$schem"
    "a\\\":\\\"https://json-schema.org/draft/2020-12/schema\\\",\\\"title\\\":\\\"tansiq inci"
    "dent\\\",\\\"description\\\":\\\"Where, when and what of a georeferenced incident, as th"
    "e source reported it. Coordinates are WGS 84 degrees; where_prec and date_prec are UCDP "
    "GED precision codes.\\\",\\\"type\\\":\\\"object\\\",\\\"required\\\":[\\\"extension_typ"
    "e\\\",\\\"kind\\\",\\\"latitude\\\",\\\"longitude\\\",\\\"start\\\",\\\"end\\\"],\\\"add"
    "itionalProperties\\\":false,\\\"properties\\\":{\\\"extension_type\\\":{\\\"const\\\":\\"
    "\"property-extension\\\"},\\\"kind\\\":{\\\"enum\\\":[\\\"attack\\\",\\\"clash\\\",\\\"e"
    "xplosion\\\",\\\"seizure\\\",\\\"crossing\\\",\\\"sighting\\\",\\\"arrest\\\",\\\"other"
    "\\\"]},\\\"latitude\\\":{\\\"type\\\":\\\"number\\\",\\\"minimum\\\":-90,\\\"maximum\\\""
    ":90},\\\"longitude\\\":{\\\"type\\\":\\\"number\\\",\\\"minimum\\\":-180,\\\"maximum\\\""
    ":180},\\\"where_prec\\\":{\\\"type\\\":\\\"integer\\\",\\\"minimum\\\":1,\\\"maximum\\\""
    ":7},\\\"date_prec\\\":{\\\"type\\\":\\\"integer\\\",\\\"minimum\\\":1,\\\"maximum\\\":5}"
    ",\\\"start\\\":{\\\"type\\\":\\\"string\\\",\\\"pattern\\\":\\\"^[0-9]{4}-[0-9]{2}-[0-9]"
    "{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\\\\\\\.[0-9]+)?Z$\\\"},\\\"end\\\":{\\\"type\\\":\\\"st"
    "ring\\\",\\\"pattern\\\":\\\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\\\"
    "\\\\.[0-9]+)?Z$\\\"},\\\"fatalities\\\":{\\\"type\\\":\\\"integer\\\",\\\"minimum\\\":0}"
    ",\\\"reported_adm1\\\":{\\\"type\\\":\\\"string\\\",\\\"minLength\\\":1},\\\"reported_ad"
    "m2\\\":{\\\"type\\\":\\\"string\\\",\\\"minLength\\\":1},\\\"country\\\":{\\\"type\\\":"
    "\\\"string\\\",\\\"minLength\\\":1}}}\",\"version\":\"1.0.0\",\"extension_types\":[\"pro"
    "perty-extension\"]},{\"type\":\"extension-definition\",\"spec_version\":\"2.1\",\"id\":"
    "\"extension-definition--044a88c2-c0b1-45dd-bb1d-d18ddd6dbd7a\",\"created_by_ref\":\"iden"
    "tity--5a0c7e1b-3d2f-4b6a-8c9e-1f2a3b4c5d6e\",\"created\":\"2025-01-01T00:00:00.000Z\",\""
    "modified\":\"2025-01-01T00:00:00.000Z\",\"name\":\"tansiq seizure\",\"description\":\"Qu"
    "antities seized in an incident (property-extension).\",\"schema\":\"{\\\"$schema\\\":\\"
    "\"https://json-schema.org/draft/2020-12/schema\\\",\\\"title\\\":\\\"tansiq seizure\\\","
    "\\\"description\\\":\\\"What was seized: each item with its amount and unit (captagon, 1"
    "20000, pills).\\\",\\\"type\\\":\\\"object\\\",\\\"required\\\":[\\\"extension_type\\\","
    "\\\"quantities\\\"],\\\"additionalProperties\\\":false,\\\"properties\\\":{\\\"extension"
    "_type\\\":{\\\"const\\\":\\\"property-extension\\\"},\\\"quantities\\\":{\\\"type\\\":\\"
    "\"array\\\",\\\"minItems\\\":1,\\\"maxItems\\\":64,\\\"items\\\":{\\\"type\\\":\\\"objec"
    "t\\\",\\\"required\\\":[\\\"item\\\",\\\"amount\\\",\\\"unit\\\"],\\\"additionalProperti"
    "es\\\":false,\\\"properties\\\":{\\\"item\\\":{\\\"type\\\":\\\"string\\\",\\\"minLength"
    "\\\":1},\\\"amount\\\":{\\\"type\\\":\\\"number\\\",\\\"minimum\\\":0},\\\"unit\\\":{\\"
    "\"type\\\":\\\"string\\\",\\\"minLength\\\":1}}}}}}\",\"version\":\"1.0.0\",\"extension_"
    "types\":[\"property-extension\"]},{\"type\":\"extension-definition\",\"spec_version\":\""
    "2.1\",\"id\":\"extension-definition--6dd5bd38-4412-41db-a106-171b83a16d44\",\"created_by"
    "_ref\":\"identity--5a0c7e1b-3d2f-4b6a-8c9e-1f2a3b4c5d6e\",\"created\":\"2025-01-01T00:00"
    ":00.000Z\",\"modified\":\"2025-01-01T00:00:00.000Z\",\"name\":\"phone-number\",\"descrip"
    "tion\":\"A telephone number, E.164 (new SCO).\",\"schema\":\"{\\\"$schema\\\":\\\"https:"
    "//json-schema.org/draft/2020-12/schema\\\",\\\"title\\\":\\\"phone-number\\\",\\\"descri"
    "ption\\\":\\\"A telephone number in E.164 form. The id is UUIDv5 (STIX SCO namespace) of"
    " the JCS form of {\\\\\\\"value\\\\\\\"}.\\\",\\\"type\\\":\\\"object\\\",\\\"required\\"
    "\":[\\\"type\\\",\\\"id\\\",\\\"value\\\"],\\\"properties\\\":{\\\"type\\\":{\\\"const\\"
    "\":\\\"phone-number\\\"},\\\"spec_version\\\":{\\\"const\\\":\\\"2.1\\\"},\\\"id\\\":{\\",
    "\"type\\\":\\\"string\\\",\\\"pattern\\\":\\\"^phone-number--[0-9a-f]{8}-[0-9a-f]{4}-5[0"
    "-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$\\\"},\\\"value\\\":{\\\"type\\\":\\\"string\\"
    "\",\\\"pattern\\\":\\\"^\\\\\\\\+[1-9][0-9]{1,14}$\\\"}},\\\"x_id_contributing_propertie"
    "s\\\":[\\\"value\\\"]}\",\"version\":\"1.0.0\",\"extension_types\":[\"new-sco\"]},{\"typ"
    "e\":\"extension-definition\",\"spec_version\":\"2.1\",\"id\":\"extension-definition--0ab"
    "a0dfa-5095-4097-b67d-40035824d9b1\",\"created_by_ref\":\"identity--5a0c7e1b-3d2f-4b6a-8c"
    "9e-1f2a3b4c5d6e\",\"created\":\"2025-01-01T00:00:00.000Z\",\"modified\":\"2025-01-01T00:"
    "00:00.000Z\",\"name\":\"vehicle-plate\",\"description\":\"A vehicle registration plate w"
    "ith its issuing country (new SCO).\",\"schema\":\"{\\\"$schema\\\":\\\"https://json-sche"
    "ma.org/draft/2020-12/schema\\\",\\\"title\\\":\\\"vehicle-plate\\\",\\\"description\\\":"
    "\\\"A vehicle registration plate as written (upper-case Latin, digits, '-', ' ', Arabic "
    "letters and digits), with the ISO 3166-1 alpha-2 country that issued it and optionally i"
    "ts region. The id is UUIDv5 (STIX SCO namespace) of the JCS form of {\\\\\\\"country\\\\"
    "\\\",\\\\\\\"value\\\\\\\"}: the same plate text in two countries is two vehicles.\\\","
    "\\\"type\\\":\\\"object\\\",\\\"required\\\":[\\\"type\\\",\\\"id\\\",\\\"value\\\",\\\""
    "country\\\"],\\\"properties\\\":{\\\"type\\\":{\\\"const\\\":\\\"vehicle-plate\\\"},\\\""
    "spec_version\\\":{\\\"const\\\":\\\"2.1\\\"},\\\"id\\\":{\\\"type\\\":\\\"string\\\",\\"
    "\"pattern\\\":\\\"^vehicle-plate--[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}"
    "-[0-9a-f]{12}$\\\"},\\\"value\\\":{\\\"type\\\":\\\"string\\\",\\\"minLength\\\":1,\\\"m"
    "axLength\\\":32},\\\"country\\\":{\\\"type\\\":\\\"string\\\",\\\"pattern\\\":\\\"^[A-Z]"
    "{2}$\\\"},\\\"region\\\":{\\\"type\\\":\\\"string\\\",\\\"minLength\\\":1,\\\"maxLength"
    "\\\":64}},\\\"x_id_contributing_properties\\\":[\\\"country\\\",\\\"value\\\"]}\",\"vers"
    "ion\":\"1.0.0\",\"extension_types\":[\"new-sco\"]}]",
};

#define DEFINITIONS_LEN 5546
static char definitions[DEFINITIONS_LEN + 1];
static pthread_once_t joined = PTHREAD_ONCE_INIT;

static void join(void)
{
    size_t off = 0;

    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        size_t n = strlen(parts[i]);

        if (off + n > DEFINITIONS_LEN)
            break; /* cannot happen: the test checks the joined length */
        memcpy(definitions + off, parts[i], n);
        off += n;
    }
    definitions[off] = '\0';
}

const char *tq_events_definitions_json(void)
{
    (void)pthread_once(&joined, join);
    return definitions;
}
