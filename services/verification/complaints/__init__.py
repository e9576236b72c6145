"""Complaints (pengaduan): intake from every channel, SLA by category, assignment, actions, escalation."""
