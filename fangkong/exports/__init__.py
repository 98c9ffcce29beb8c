"""Files out: every list export (xlsx, csv) goes through here. See `services.export_build`."""
