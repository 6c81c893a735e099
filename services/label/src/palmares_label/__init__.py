"""The label's rules that more than one service applies (pure: no I/O, no framework).

Services never import each other; where two of them must agree on a rule of
the label (which actions count at the dossier deadline, what a dossier finally
gets once the jury has spoken), the rule is written once here.
"""
