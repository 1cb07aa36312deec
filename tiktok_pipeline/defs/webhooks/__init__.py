"""Applying webhook pushes: the sensor that reads the inbox and the job that refreshes rows."""
