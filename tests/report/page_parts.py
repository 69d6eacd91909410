"""What every run report holds: the section and figure ids the page and browser tests look for."""

SECTIONS = ("verdict", "maps", "by-hour", "by-level", "response-times", "utilisation", "encirclement",
            "visibility", "about")
FIGURES = ("fig-map-beats", "fig-map-incidents", "fig-map-compliance", "fig-map-backup", "fig-by-hour",
           "fig-by-level", "fig-response-times", "fig-utilisation", "fig-encirclement", "fig-visibility-hour",
           "fig-map-presence")
