"""Tests of the example transcoding plan, plans/transcode/."""
