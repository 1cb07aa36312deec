"""Pulling orders, products, returns, cancellations and finance from TikTok into the warehouse."""
