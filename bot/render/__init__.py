"""One diagnosis, three renderings: plain text (text.py), Block Kit (blocks.py) and JSON (Diagnosis.to_json)."""
