"""Data files shipped with clvlab; see PROVENANCE.md beside this file."""
