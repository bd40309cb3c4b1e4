"""Quality control while marking (DESIGN §13): checks, qualification, seeds, alarms."""
