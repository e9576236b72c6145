"""The internal dashboard: a static page served by the gateway that reads the public aggregate APIs."""
