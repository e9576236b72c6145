"""Payment instruction files (pain.001 for banks, the Pos CSV profile) built from an approved tahap."""
