"""`report --html`: status, timelines, least privilege and lint as one static page (no fetch to view it)."""
