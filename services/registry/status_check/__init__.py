"""The registry's half of the public status check (Cek Bansos): which families a kelurahan + name or NIK + name
names, for the gateway only, every lookup audited by the hash of its query."""
