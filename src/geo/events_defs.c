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
    "[{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"identity--730bf4e9-8d74-44e2-8"
    "97a-b2a67e8d692e\",\"created\":\"2025-01-01T00:00:00.000Z\",\"modified\":\"2025-01-01T00"
    ":00:00.000Z\",\"name\":\"tansiq\",\"description\":\"The tansiq node software: author of "
    "the extension-definitions every tansiq node shares.\",\"identity_class\":\"system\"},{\""
    "type\":\"extension-definition\",\"spec_version\":\"2.1\",\"id\":\"extension-definition--"
    "f1fc3882-b2d1-4d3a-b4a8-12bad3930960\",\"created_by_ref\":\"identity--730bf4e9-8d74-44e2"
    "-897a-b2a67e8d692e\",\"created\":\"2025-01-01T00:00:00.000Z\",\"modified\":\"2025-01-01T"
    "00:00:00.000Z\",\"name\":\"tansiq incident\",\"description\":\"Location, time, kind and "
    "toll of an incident (property-extension of incident, sighting and observed-data).\",\"sc"
    "hema\":\"{\\\"$schema\\\":\\\"https://json-schema.org/draft/2020-12/schema\\\",\\\"title"
    "\\\":\\\"tansiq incident\\\",\\\"description\\\":\\\"Where, when and what of a georefere"
    "nced incident, as the source reported it. Coordinates are WGS 84 degrees; where_prec and"
    " date_prec are UCDP GED precision codes.\\\",\\\"type\\\":\\\"object\\\",\\\"required"
    "\\\":[\\\"extension_type\\\",\\\"kind\\\",\\\"latitude\\\",\\\"longitude\\\",\\\"start"
    "\\\",\\\"end\\\"],\\\"additionalProperties\\\":false,\\\"properties\\\":{\\\"extension_t"
    "ype\\\":{\\\"const\\\":\\\"property-extension\\\"},\\\"kind\\\":{\\\"enum\\\":[\\\"attac"
    "k\\\",\\\"clash\\\",\\\"explosion\\\",\\\"seizure\\\",\\\"crossing\\\",\\\"sighting\\\","
    "\\\"arrest\\\",\\\"other\\\"]},\\\"latitude\\\":{\\\"type\\\":\\\"number\\\",\\\"minimum"
    "\\\":-90,\\\"maximum\\\":90},\\\"longitude\\\":{\\\"type\\\":\\\"number\\\",\\\"minimum"
    "\\\":-180,\\\"maximum\\\":180},\\\"where_prec\\\":{\\\"type\\\":\\\"integer\\\",\\\"mini"
    "mum\\\":1,\\\"maximum\\\":7},\\\"date_prec\\\":{\\\"type\\\":\\\"integer\\\",\\\"minimum"
    "\\\":1,\\\"maximum\\\":5},\\\"start\\\":{\\\"type\\\":\\\"string\\\",\\\"pattern\\\":"
    "\\\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\\\\\\\.[0-9]+)?Z$\\\"},\\\""
    "end\\\":{\\\"type\\\":\\\"string\\\",\\\"pattern\\\":\\\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-"
    "9]{2}:[0-9]{2}:[0-9]{2}(\\\\\\\\.[0-9]+)?Z$\\\"},\\\"fatalities\\\":{\\\"type\\\":\\\"in"
    "teger\\\",\\\"minimum\\\":0},\\\"reported_adm1\\\":{\\\"type\\\":\\\"string\\\",\\\"minL"
    "ength\\\":1},\\\"reported_adm2\\\":{\\\"type\\\":\\\"string\\\",\\\"minLength\\\":1},"
    "\\\"country\\\":{\\\"type\\\":\\\"string\\\",\\\"minLength\\\":1}}}\",\"version\":\"1.0."
    "0\",\"extension_types\":[\"property-extension\"]},{\"type\":\"extension-definition\",\"s"
    "pec_version\":\"2.1\",\"id\":\"extension-definition--044a88c2-c0b1-45dd-bb1d-d18ddd6dbd7"
    "a\",\"created_by_ref\":\"identity--730bf4e9-8d74-44e2-897a-b2a67e8d692e\",\"created\":\""
    "2025-01-01T00:00:00.000Z\",\"modified\":\"2025-01-01T00:00:00.000Z\",\"name\":\"tansiq s"
    "eizure\",\"description\":\"Quantities seized in an incident (property-extension).\",\"sc"
    "hema\":\"{\\\"$schema\\\":\\\"https://json-schema.org/draft/2020-12/schema\\\",\\\"title"
    "\\\":\\\"tansiq seizure\\\",\\\"description\\\":\\\"What was seized: each item with its "
    "amount and unit (captagon, 120000, pills).\\\",\\\"type\\\":\\\"object\\\",\\\"required"
    "\\\":[\\\"extension_type\\\",\\\"quantities\\\"],\\\"additionalProperties\\\":false,\\\""
    "properties\\\":{\\\"extension_type\\\":{\\\"const\\\":\\\"property-extension\\\"},\\\"qu"
    "antities\\\":{\\\"type\\\":\\\"array\\\",\\\"minItems\\\":1,\\\"maxItems\\\":64,\\\"item"
    "s\\\":{\\\"type\\\":\\\"object\\\",\\\"required\\\":[\\\"item\\\",\\\"amount\\\",\\\"uni"
    "t\\\"],\\\"additionalProperties\\\":false,\\\"properties\\\":{\\\"item\\\":{\\\"type\\\""
    ":\\\"string\\\",\\\"minLength\\\":1},\\\"amount\\\":{\\\"type\\\":\\\"number\\\",\\\"min"
    "imum\\\":0},\\\"unit\\\":{\\\"type\\\":\\\"string\\\",\\\"minLength\\\":1}}}}}}\",\"vers"
    "ion\":\"1.0.0\",\"extension_types\":[\"property-extension\"]},",
    "{\"type\":\"extension-definition\",\"spec_version\":\"2.1\",\"id\":\"extension-definitio"
    "n--6dd5bd38-4412-41db-a106-171b83a16d44\",\"created_by_ref\":\"identity--730bf4e9-8d74-4"
    "4e2-897a-b2a67e8d692e\",\"created\":\"2025-01-01T00:00:00.000Z\",\"modified\":\"2025-01-"
    "01T00:00:00.000Z\",\"name\":\"phone-number\",\"description\":\"A telephone number, E.164"
    " (new SCO).\",\"schema\":\"{\\\"$schema\\\":\\\"https://json-schema.org/draft/2020-12/sc"
    "hema\\\",\\\"title\\\":\\\"phone-number\\\",\\\"description\\\":\\\"A telephone number i"
    "n E.164 form. The id is UUIDv5 (STIX SCO namespace) of the JCS form of {\\\\\\\"value"
    "\\\\\\\"}.\\\",\\\"type\\\":\\\"object\\\",\\\"required\\\":[\\\"type\\\",\\\"id\\\","
    "\\\"value\\\"],\\\"properties\\\":{\\\"type\\\":{\\\"const\\\":\\\"phone-number\\\"},"
    "\\\"spec_version\\\":{\\\"const\\\":\\\"2.1\\\"},\\\"id\\\":{\\\"type\\\":\\\"string\\\""
    ",\\\"pattern\\\":\\\"^phone-number--[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{"
    "3}-[0-9a-f]{12}$\\\"},\\\"value\\\":{\\\"type\\\":\\\"string\\\",\\\"pattern\\\":\\\"^"
    "\\\\\\\\+[1-9][0-9]{1,14}$\\\"}},\\\"x_id_contributing_properties\\\":[\\\"value\\\"]}\""
    ",\"version\":\"1.0.0\",\"extension_types\":[\"new-sco\"]},{\"type\":\"extension-definiti"
    "on\",\"spec_version\":\"2.1\",\"id\":\"extension-definition--0aba0dfa-5095-4097-b67d-400"
    "35824d9b1\",\"created_by_ref\":\"identity--730bf4e9-8d74-44e2-897a-b2a67e8d692e\",\"crea"
    "ted\":\"2025-01-01T00:00:00.000Z\",\"modified\":\"2025-01-01T00:00:00.000Z\",\"name\":\""
    "vehicle-plate\",\"description\":\"A vehicle registration plate with its issuing country "
    "(new SCO).\",\"schema\":\"{\\\"$schema\\\":\\\"https://json-schema.org/draft/2020-12/sch"
    "ema\\\",\\\"title\\\":\\\"vehicle-plate\\\",\\\"description\\\":\\\"A vehicle registrati"
    "on plate as written (upper-case Latin, digits, '-', ' ', Arabic letters and digits), wit"
    "h the ISO 3166-1 alpha-2 country that issued it and optionally its region. The id is UUI"
    "Dv5 (STIX SCO namespace) of the JCS form of {\\\\\\\"country\\\\\\\",\\\\\\\"value"
    "\\\\\\\"}: the same plate text in two countries is two vehicles.\\\",\\\"type\\\":\\\"ob"
    "ject\\\",\\\"required\\\":[\\\"type\\\",\\\"id\\\",\\\"value\\\",\\\"country\\\"],\\\"pr"
    "operties\\\":{\\\"type\\\":{\\\"const\\\":\\\"vehicle-plate\\\"},\\\"spec_version\\\":{"
    "\\\"const\\\":\\\"2.1\\\"},\\\"id\\\":{\\\"type\\\":\\\"string\\\",\\\"pattern\\\":\\\"^"
    "vehicle-plate--[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$\\\"}"
    ",\\\"value\\\":{\\\"type\\\":\\\"string\\\",\\\"minLength\\\":1,\\\"maxLength\\\":32},"
    "\\\"country\\\":{\\\"type\\\":\\\"string\\\",\\\"pattern\\\":\\\"^[A-Z]{2}$\\\"},\\\"reg"
    "ion\\\":{\\\"type\\\":\\\"string\\\",\\\"minLength\\\":1,\\\"maxLength\\\":64}},\\\"x_id"
    "_contributing_properties\\\":[\\\"country\\\",\\\"value\\\"]}\",\"version\":\"1.0.0\",\""
    "extension_types\":[\"new-sco\"]}]",
};

#define DEFINITIONS_LEN 5650
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
