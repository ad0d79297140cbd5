"""Built-in rules: a folder per family (``rules/<family>/``), a module per rule named for what it catches
(``rules/operators/bare_operator_on_array.py``). Every ``Rule`` subclass with a ``CODE`` in a module whose name
does not start with ``_`` is registered. Rule modules never import each other: what several rules share lives in
``_shared.py``/``_coach.py`` here or in the family's ``_common.py``. The YAML tables beside them are API facts
(data, not code), read through ``emberlint.api_facts.load_table``."""
