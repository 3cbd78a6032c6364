"""Small process tools the supervisord configuration uses (not part of the engine or dashboard)."""
