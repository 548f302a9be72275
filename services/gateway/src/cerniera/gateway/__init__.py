"""Hospital gateways: HL7 v2 over MLLP and FHIR R4 over HTTP, to the event contract."""
