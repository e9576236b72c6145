"""PDF reports of the services (ReportLab): page frame, fonts, signature block, charts and Indonesian formats."""
