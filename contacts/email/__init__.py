"""Email into the timeline: parsing, matching and recording, the dropbox webhook and IMAP sync."""
