"""The quarterly Word report (python-docx), kept apart from `sync/`: it reads the pass's Summary and
writes a document; nothing in `sync/` depends on it. Built in its own issue."""
