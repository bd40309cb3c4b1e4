"""Quality control while marking (DESIGN §13): qualification, seeds, 回评, alarms, suspension."""
