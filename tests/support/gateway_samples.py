"""The gateway's sample messages (examples/hl7, examples/fhir), read as a sender would send them,
and what they are known to contain. Pure: no I/O beyond reading the files."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from cerniera.shared.clock import ROME

EXAMPLES = Path(__file__).parents[2] / "examples"
HL7 = EXAMPLES / "hl7"
FHIR = EXAMPLES / "fhir"

A16 = "adt-a16-pending-discharge.hl7"
A16_MOVED = "adt-a16-discharge-moved.hl7"
A03 = "adt-a03-discharge.hl7"
A13 = "adt-a13-cancel-discharge.hl7"
A01 = "adt-a01-readmission.hl7"

# Shaped like real feeds (LF ends, Z-segments, segments newer than the version, "", escapes),
# one per version; the story of Anna Cerutti (2.8 A16 with the ward's assessment in OBX, then
# a 2.5.1 A08) and of Luigi Ferrari (2.4 A03, then a 2.3 A01: readmitted), ASST Vimercate.
A16_V28 = "adt-a16-v2.8-assessment.hl7"
A08_V251 = "adt-a08-v2.5.1-update.hl7"
A03_V24 = "adt-a03-v2.4-discharge.hl7"
A01_V23 = "adt-a01-v2.3-readmission.hl7"
V28_CASE = "asst-vimercate:V2026-002201"
V28_FISCAL_CODE = "CRTNNA41E47F704K"
V24_CASE = "asst-vimercate:V2026-002187"
V24_FISCAL_CODE = "FRRLGU35M12E063I"

ENCOUNTER_IN_PROGRESS = "encounter-in-progress.json"
ENCOUNTER_FINISHED = "encounter-finished.json"
DAVINCI_DISCHARGE = "davinci-notification-discharge.json"
QUESTIONNAIRE = "questionnaire-fase2.json"
QUESTIONNAIRE_BUNDLE = "questionnaire-response-bundle.json"
QUESTIONNAIRE_CASE = "irccs-san-gerardo:SG-2026-57002"

# The HL7 storyline: Giuseppina Brambilla, Medicina Generale at ASST Vimercate.
HL7_HOSPITAL = "asst-vimercate"
HL7_VISIT = "V2026-000412"
HL7_CASE = f"{HL7_HOSPITAL}:{HL7_VISIT}"
HL7_FISCAL_CODE = "BRMGPP38C62D286R"
EXPECTED = datetime(2026, 11, 27, 10, 0, tzinfo=ROME)  # PV2-9 of the A16
MOVED = datetime(2026, 11, 30, 11, 0, tzinfo=ROME)  # PV2-9 of the second A16
DISCHARGED = datetime(2026, 11, 30, 10, 40, tzinfo=ROME)  # PV1-45 of the A03
READMITTED = datetime(2026, 12, 9, 22, 40, tzinfo=ROME)  # PV1-44 of the A01

# The FHIR ones: Rosa Colombo (Geriatria) and Angelo Ronchi, IRCCS San Gerardo.
FHIR_HOSPITAL = "irccs-san-gerardo"
FHIR_CASE = f"{FHIR_HOSPITAL}:SG-2026-55871"
DAVINCI_CASE = f"{FHIR_HOSPITAL}:SG-2026-56210"


def hl7_message(name: str, changes: dict[str, str] | None = None, *, end: str = "\r") -> str:
    """A sample as it travels (segments ending in ``end``: CR, or LF as many feeds send),
    after replacing ``old`` text with ``new`` for each pair of ``changes``: how the tests make
    a sample wrong."""
    text = (HL7 / name).read_text()
    for old, new in (changes or {}).items():
        assert old in text, f"{old!r} not in {name}"
        text = text.replace(old, new)
    return end.join(text.splitlines()) + end


def fhir_resource(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((FHIR / name).read_text())
    return doc
