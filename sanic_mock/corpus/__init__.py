"""Corpus code: the file format (`format`), its one reader/writer (`io`), article generation
(`pregen`) and the in-memory text pool responses are cut from (`pool`)."""
