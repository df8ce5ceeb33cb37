"""iCalendar feeds of upcoming deadlines, one secret URL per case manager."""
