"""The Slack front end: slash commands, Block Kit announcements, a modal and buttons over the core."""
