"""Publishing a view outside the page: embeds, present mode and exports (CSV, images, briefing)."""
