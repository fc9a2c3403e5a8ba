"""The reminder engine: one Temporal workflow per event, activities that read the database and deliver."""
