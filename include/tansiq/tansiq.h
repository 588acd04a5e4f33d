/* SPDX-License-Identifier: Apache-2.0
 *
 * tansiq/tansiq.h - umbrella header of the public API.
 */
#ifndef TANSIQ_TANSIQ_H
#define TANSIQ_TANSIQ_H

#include "tansiq/errors.h"
#include "tansiq/core.h"
#include "tansiq/json.h"
#include "tansiq/stix.h"
#include "tansiq/store.h"
#include "tansiq/access.h"
#include "tansiq/server.h"
#include "tansiq/client.h"
#include "tansiq/ingest.h"
#include "tansiq/node.h"
#include "tansiq/runtime.h"
#include "tansiq/policy.h"
#include "tansiq/sync.h"
#include "tansiq/merkle.h"
#include "tansiq/note.h"
#include "tansiq/tlog.h"
#include "tansiq/monitor_store.h"
#include "tansiq/geo.h"
#include "tansiq/hotspot.h"
#include "tansiq/events.h"
#include "tansiq/correl.h"
#include "tansiq/alerts.h"

#define TQ_VERSION "0.1.0"

#endif
