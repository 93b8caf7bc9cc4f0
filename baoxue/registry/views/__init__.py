"""Web views of the registry work, one module per part of plan §1–§2."""
