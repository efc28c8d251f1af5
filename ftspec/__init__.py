"""ftspec: decide whether and how to fine-tune, generate the scripts, run them, and gate the result."""

__version__ = "0.1.0"
