from ftspec.cli import entry

entry()
