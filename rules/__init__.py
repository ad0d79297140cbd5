"""Built-in rules, one module per family. Every ``Rule`` subclass with a ``CODE`` in these modules is registered."""
