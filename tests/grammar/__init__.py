"""Tests of the expression grammars (selectors and conditions)."""
