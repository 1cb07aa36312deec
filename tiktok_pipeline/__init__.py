"""tiktok-pipeline: TikTok Shop data in your warehouse with Dagster."""

__version__ = "0.1.0"
