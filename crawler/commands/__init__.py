"""Project commands for Scrapy's CLI (``COMMANDS_MODULE``): ``crawl`` with argument checks."""
