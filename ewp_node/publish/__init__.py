"""What a HEI publishes: institution, organizational units, learning opportunities, factsheet, files.

Rule: one canonical record shape (the documented import format, ``docs/import-format.md``) flows through
every job: ``records`` validates it, ``repository`` stores it (key columns + a JSON ``data`` column),
``export`` writes it back, ``from_xml`` reads it from partners' EWP documents, and
``ewp_node.xml.build`` turns it into EWP XML. Every stored row belongs to one HEI (``hei_id``).
"""
