"""Search events: query ids, clicks and conversions, stored durably and shipped to analytics."""
