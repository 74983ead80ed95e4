"""The command line: click only. Commands are thin; the library does the work."""
