"""TikTok's documented response fields: the catalog, its generator and the coverage measure."""
