"""A tenth subsystem, water supply, as a new developer would add it: this folder and nothing else.

docs/architecture.md ("Adding a subsystem") walks through these files; tests/test_architecture.py
installs the app and checks that it reaches the registry, the wall, the snapshot, the API, the staff
menu and the beat schedule.
"""
