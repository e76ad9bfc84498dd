"""examples/ holds upstream notebooks that test_example_notebooks.py runs with their stand-in
data, role and clean-up; nbval must not collect them as it collects the course's notebooks."""
collect_ignore = ["examples"]
