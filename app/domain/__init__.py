"""The law as code: pure functions over plain dates. Imports nothing of the app, no I/O, no clock."""
