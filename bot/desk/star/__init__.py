"""Questions for STAR: the desk (drafts, queue, hand-over), the outbox sender, SMTP with password or OAuth, the FAQ."""

from bot.desk.star.desk import Delivery, StarDesk, attach_draft, delivery_replies, mailto_link

__all__ = ["Delivery", "StarDesk", "attach_draft", "delivery_replies", "mailto_link"]
