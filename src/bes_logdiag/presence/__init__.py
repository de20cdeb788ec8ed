"""Check BEMS Presence (LyncPresenceProviderService.exe.config) files and domain whitelists."""
