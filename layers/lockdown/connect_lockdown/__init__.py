"""Connect Bucket Lockdown: keep the Amazon Connect recordings bucket locked with a bucket policy."""

__version__ = "0.3.0"
