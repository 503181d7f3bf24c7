"""The authentication flows: no HTTP, no SQL; they talk to storage through its ports."""
