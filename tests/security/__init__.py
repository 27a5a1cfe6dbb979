"""Security properties: SQL only through bound parameters, no pickle, namespaced Redis keys, masked
secrets, guild isolation."""
