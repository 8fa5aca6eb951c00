"""The plan compiler."""
