"""The fault audit of issue 16, one module per stage; ``bench/faults.py`` runs them."""
