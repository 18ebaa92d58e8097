"""Danish Jinja2 texts: one template per question and outcome, plus shared messages."""
