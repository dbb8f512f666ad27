"""`make bench`: the performance measurements of DESIGN.md section 6, each against a baseline
measured in the same run (`python -m bench`)."""
