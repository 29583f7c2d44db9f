"""Builders of EWP response elements: one function per element type, from canonical records
(``ewp_node.publish.records``) to lxml elements. Pure functions: no store, no HTTP, no clock, so that a
public document never depends on who asks or when. The Courses builder keeps what it built in a cache keyed
by the whole stored content (``ewp_node.xml.fragments``): the same input still gives the same bytes.
"""
