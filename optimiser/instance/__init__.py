"""The instance: its schema, reading files and workbooks, overrides and the
checks across sections (``load_instance``)."""
