"""The support team's side: the decision log's views and exports, the outbox of questions to STAR."""
