"""Streaming CSV and XLSX exports of the lists operators work with (one exporter for every list)."""
