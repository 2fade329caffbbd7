"""The field's interchange formats: STIX 2.1 with DISARM (OpenCTI, MISP), FollowTheMoney (Aleph), GEXF/GraphML (Gephi).

Each module turns the analysed store into one format: `stix.stix_bundle`, `ftm.ftm_entities`,
`graph.actor_graph`. `export.export` writes them to files.
"""
