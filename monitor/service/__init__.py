"""Running as a system service: sd_notify, metrics, self-watch, retention."""
