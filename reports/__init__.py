"""Reports: read-only views across apps (the agency access review of SPEC §1/§6; the county and
state reports of SPEC §9). The top domain layer: it may read every app below it, and nothing
imports it."""
