"""What the coding agents' own logs and stores share: finding the files, the bounded scan of
huge lines, the record sources, the reader bases a new agent's parser subclasses (``jsonl``,
``whole``, ``databases``), the value rules (``values``) and the spec helpers (``spec``,
``agent_spec``)."""
