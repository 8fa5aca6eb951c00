"""Lark grammars of cpe's expression languages, with their parsers and evaluators."""
