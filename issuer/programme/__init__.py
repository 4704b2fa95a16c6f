"""The programme's own view: dashboards, reports, feedback surveys, charts, research export."""
