"""Pull requests drive reviews: GitHub and GitLab webhooks open, move and close review requests."""
