"""Pulling orders, products and returns from TikTok into the warehouse tables."""
