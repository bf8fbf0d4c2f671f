"""Run a real Home Assistant with the Nomos simulator (for `script/demo` and end-to-end tests)."""
