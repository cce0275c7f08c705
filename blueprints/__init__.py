"""The edge: each blueprint parses its trigger, calls one service in ``shared``, maps the reply."""
