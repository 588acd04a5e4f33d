#!/usr/bin/env python3
"""Generate demo/border-demo.json: a small, fictional STIX 2.1 bundle about smuggling and
armed-cell activity along the Syria-Iraq border, for `make run`.

Every name, number and event in it is invented for demonstration; places are real towns and
crossings. Identifiers are derived from names so the output is reproducible: run it again and the file does
not change.
"""
import json
import uuid

NS = uuid.UUID("6f1c2a57-4d6e-4c0a-9d1e-2b7f3c9a0e11")
TLP = {
    "CLEAR": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "GREEN": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "AMBER": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
}
SCO_NS = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
objects = []


def sid(kind, name):
    """A UUIDv4-shaped id (as STIX asks of SDOs and SROs) drawn from a hash, so it is stable."""
    h = uuid.uuid5(NS, kind + ':' + name).bytes
    return f"{kind}--{uuid.UUID(bytes=h, version=4)}"


def ts(day, hour=8):
    return f"2026-{day}T{hour:02d}:00:00.000Z"


def sdo(kind, key, day, tlp="GREEN", **props):
    o = {"type": kind, "spec_version": "2.1", "id": sid(kind, key), "created": ts(day),
         "modified": ts(day), "created_by_ref": CENTRE, "object_marking_refs": [TLP[tlp]]}
    o.update(props)
    objects.append(o)
    return o["id"]


CENTRE = sid("identity", "centre")
objects.append({"type": "identity", "spec_version": "2.1", "id": CENTRE,
                "created": ts("11-01"), "modified": ts("11-01"),
                "name": "Joint Border Coordination Centre (demo)",
                "identity_class": "organization", "sectors": ["government-national"],
                "object_marking_refs": [TLP["CLEAR"]]})

places = {
    "al-qaim": ("Al-Qaim / Albu Kamal crossing", 34.3810, 40.9920, "IQ", "Al-Anbar"),
    "albu-kamal": ("Albu Kamal", 34.4530, 40.9180, "SY", "Deir ez-Zor"),
    "rabia": ("Rabia / Al-Yarubiyah crossing", 36.8020, 42.0970, "IQ", "Ninewa"),
    "sinjar": ("Sinjar", 36.3209, 41.8763, "IQ", "Ninewa"),
    "tanf": ("Al-Tanf / Al-Waleed crossing", 33.4990, 38.6640, "SY", "Homs"),
    "rutba": ("Ar-Rutba", 33.0380, 40.2840, "IQ", "Al-Anbar"),
    "deir": ("Deir ez-Zor", 35.3360, 40.1410, "SY", "Deir ez-Zor"),
}
loc = {}
for key, (name, lat, lon, cc, region) in places.items():
    loc[key] = sdo("location", key, "11-01", "CLEAR", name=name, latitude=lat, longitude=lon,
                   country=cc, administrative_area=region)

cells = sdo("intrusion-set", "cells", "11-02", "AMBER", name="Desert cell network (demo)",
            description="Fictional network of armed cells moving between the Badia and the "
                        "Anbar desert, used to demonstrate tansiq.",
            aliases=["خلايا البادية"], goals=["attack border posts", "move weapons"],
            resource_level="organization", primary_motivation="ideology")
smugglers = sdo("threat-actor", "smugglers", "11-02", "AMBER",
                name="Captagon smuggling ring (demo)",
                threat_actor_types=["crime-syndicate"],
                description="Fictional ring moving captagon tablets across the border by truck.",
                roles=["agent"], sophistication="intermediate",
                resource_level="organization", primary_motivation="personal-gain")

incidents = [
    ("ied-qaim", "IED against a border patrol near Al-Qaim", "11-03", "al-qaim"),
    ("seizure-rabia", "Captagon seizure in a lorry at Rabia", "11-05", "rabia"),
    ("crossing-tanf", "Unauthorised crossing of armed group near Al-Tanf", "11-08", "tanf"),
    ("arms-albu-kamal", "Weapons cache found outside Albu Kamal", "11-10", "albu-kamal"),
    ("ambush-rutba", "Ambush on a supply convoy on the Rutba road", "11-12", "rutba"),
]
inc_ids = []
for key, name, day, place in incidents:
    iid = sdo("incident", key, day, "AMBER", name=name,
              description=name + " (fictional demo event).")
    inc_ids.append(iid)
    sdo("relationship", "loc-" + key, day, "AMBER", relationship_type="located-at",
        source_ref=iid, target_ref=loc[place])
    sdo("relationship", "attr-" + key, day, "AMBER", relationship_type="attributed-to",
        source_ref=iid, target_ref=smugglers if "captagon" in name.lower() or "seizure" in key
        else cells)

indicators = [
    ("domain", "[domain-name:value = 'sahara-cargo-demo.example']", "Courier front domain"),
    ("ip", "[ipv4-addr:value = '198.51.100.23']", "Relay used by the cells"),
    ("hash", "[file:hashes.'SHA-256' = "
             "'3b1f0c9a0e4d5f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c']",
     "Propaganda archive shared on channels"),
    ("url", "[url:value = 'https://drop.example.org/manifest']", "Manifest drop site"),
]
ind_ids = []
for key, pattern, name in indicators:
    iid = sdo("indicator", key, "11-06", "GREEN", name=name, pattern=pattern,
              pattern_type="stix", valid_from=ts("11-06"),
              indicator_types=["malicious-activity"])
    ind_ids.append(iid)
    sdo("relationship", "ind-" + key, "11-06", "GREEN", relationship_type="indicates",
        source_ref=iid, target_ref=cells)

dom = {"type": "domain-name", "spec_version": "2.1",
       "id": "domain-name--" + str(uuid.uuid5(SCO_NS, json.dumps({"value": "sahara-cargo-demo.example"},
                                                                  separators=(",", ":")))),
       "value": "sahara-cargo-demo.example"}
objects.append(dom)
obs = sdo("observed-data", "obs-domain", "11-07", "GREEN", first_observed=ts("11-07", 6),
          last_observed=ts("11-07", 9), number_observed=3, object_refs=[dom["id"]])
sdo("sighting", "sight-domain", "11-07", "GREEN", sighting_of_ref=ind_ids[0],
    observed_data_refs=[obs], where_sighted_refs=[CENTRE], count=3)
sdo("note", "note-1", "11-13", "AMBER", content="Patrols report lorries re-routed through "
    "Sinjar after the Rabia seizure.", object_refs=[inc_ids[1], loc["sinjar"]],
    authors=["Duty officer"])
sdo("report", "weekly", "11-14", "AMBER", name="Border situation report, week 46 (demo)",
    description="Incidents, seizures and indicators along the Syria-Iraq border.",
    report_types=["threat-report"], published=ts("11-14", 12),
    object_refs=inc_ids + ind_ids + [cells, smugglers])

bundle = {"type": "bundle", "id": sid("bundle", "demo"), "objects": objects}
with open("demo/border-demo.json", "w", encoding="utf-8") as f:
    json.dump(bundle, f, ensure_ascii=False, indent=1)
    f.write("\n")
print(f"{len(objects)} objects")
