"""Transcripts of records (IMobility ToRs v3, ELMO 2.1.1), both sides of the exchange.

As receiving HEI: grades of incoming students come in from the SIS (:mod:`.importer`), :mod:`.issue` builds
and signs the ELMO with the node's server key, :mod:`.repository` stores and serves it (``handlers/
imobility_tors.py``), and the IMobility ToR CNR is queued in the same transaction (:mod:`.service`).
As sending HEI: a received ToR CNR (or ``ewp-node tor HOME fetch``) fetches the transcript (:mod:`.receive`),
verifies its ELMO signature against the partner's server keys in the registry, converts each result into
our grading system (:mod:`.conversion`) and matches it against the approved learning agreement; the outcome,
accepted or rejected, is kept per mobility (``ewp-node tor HOME list|show``).
"""
