"""The public status check (Cek Bansos): an unauthenticated page and endpoint, answered through the services' APIs."""
