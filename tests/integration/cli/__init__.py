"""The `blindmark` command line, run in-process against a database the test owns."""
